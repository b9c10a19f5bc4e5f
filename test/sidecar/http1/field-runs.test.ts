/**
 * The parser's fields written as runs (HeadFields.writeFields): fields received as `name: value`
 * lines one after the other are copied in one piece, the rest field by field. Whatever the head's
 * spelling (no space or a tab after the colon, trailing blanks, empty values) and however it was
 * split across reads, every range of fields comes out exactly as `name: value` lines would.
 */
import { describe, expect, it } from '@jest/globals';
import type { HeaderFields } from '../../../sidecar/http1/head-fields.js';
import { withParsedResponseFields } from './parsed-response-fields.js';

const HEADS: Record<string, string> = {
  'as sent on': 'Server: nginx\r\nDate: Mon, 07 Dec 2026 14:00:00 GMT\r\nContent-Type: text/plain\r\nETag: "a-1"\r\n',
  'no space after the colon': 'Server: nginx\r\nX-Tight:tight\r\nContent-Type: text/plain\r\nX-Last: last\r\n',
  'a tab after the colon': 'Server: nginx\r\nX-Tab:\ttabbed\r\nX-Next: next\r\n',
  'blanks after the value': 'Server: nginx  \r\nX-Trailing: value \t\r\nX-Next: next\r\nX-Last: last\r\n',
  'empty values': 'X-Empty:\r\nServer: nginx\r\nX-Blank: \r\nX-Next: next\r\n',
  'two spaces after the colon': 'Server:  nginx\r\nX-Next: next\r\nX-Last:   last\r\n',
};

/** Every range [from, to) of the fields, written as runs and as lines made from the names and values. */
function everyRange(fields: HeaderFields): { written: string[]; lines: string[] } {
  const written: string[] = [];
  const lines: string[] = [];
  for (let from = 0; from <= fields.count; from += 1) {
    for (let to = from; to <= fields.count; to += 1) {
      const out = Buffer.alloc(1_024, 0x2e);
      const end = fields.writeFields(from, to, out, 3);
      written.push(out.toString('latin1', 0, end + 3));
      let line = '...';
      for (let index = from; index < to; index += 1) line += `${fields.name(index)}: ${fields.value(index)}\r\n`;
      lines.push(`${line}...`);
    }
  }
  return { written, lines };
}

describe('HeadFields.writeFields', () => {
  for (const [spelling, fieldLines] of Object.entries(HEADS)) {
    it(`writes every range of fields as name: value lines (${spelling}), whole or split across reads`, () => {
      for (const step of [16_384, 1, 2, 3, 5, 7, 11]) {
        withParsedResponseFields(fieldLines, step, (fields) => {
          const { written, lines } = everyRange(fields);
          expect(written).toEqual(lines);
        });
      }
    });
  }

  it('copies fields received as name: value lines exactly as received', () => {
    withParsedResponseFields(HEADS['as sent on'] as string, 16_384, (fields) => {
      const out = Buffer.alloc(1_024);
      expect(out.toString('latin1', 0, fields.writeFields(0, fields.count, out, 0))).toBe(HEADS['as sent on']);
    });
  });
});

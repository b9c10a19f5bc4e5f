/**
 * A field's value read as a whole number in place (HeaderFields.decimalValue), as the app's
 * Content-Length is read: the parser's fields (ranges into the head's text, the head split across
 * reads) and a flat list give the same numbers, and anything but 1 to 15 ASCII digits is -1.
 */
import { describe, expect, it } from '@jest/globals';
import { FieldList, type HeaderFields } from '../../../sidecar/http1/head-fields.js';
import { countableContentLength } from '../../../sidecar/http1/heads.js';
import { HEAD_NO_BODY, HttpParser, RESPONSE } from '../../../sidecar/http1/llhttp.js';

const CASES: [string, number][] = [
  ['0', 0], ['7', 7], ['1024', 1024], ['000123', 123], ['123456789012345', 123456789012345],
  ['1234567890123456', -1], ['', -1], ['12a', -1], ['a12', -1], ['+1', -1], ['-1', -1], ['1 2', -1], ['1.5', -1], ['١٢', -1],
];

/** The parser's own fields for a response head with these fields, fed in pieces of `step` bytes. */
function parsedFields(fields: [string, string][], step: number): number[] {
  const head = Buffer.from(`HTTP/1.1 200 OK\r\n${fields.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`, 'latin1');
  let numbers: number[] = [];
  const parser = new HttpParser(RESPONSE, {
    onHead: (parsed) => {
      numbers = fields.map((_, index) => parsed.fields.decimalValue(index));
      return HEAD_NO_BODY;
    },
    onBody: () => undefined,
    onMessageComplete: () => 0,
  }, 16_384);
  for (let at = 0; at < head.length; at += step) parser.execute(head.subarray(at, at + step));
  parser.close();
  return numbers;
}

describe('HeaderFields.decimalValue', () => {
  it('reads 1 to 15 ASCII digits as a number, anything else as -1, in a flat list', () => {
    const list: HeaderFields = new FieldList(CASES.flatMap(([value]) => ['x-n', value]));
    expect(CASES.map((_, index) => list.decimalValue(index))).toEqual(CASES.map(([, number]) => number));
  });

  it('reads the same from the parser\'s fields, whole or split across reads', () => {
    // llhttp itself refuses a Content-Length that is not digits: these go in a field of another name.
    const latin1 = CASES.filter(([value]) => value.trim() === value && value !== '' && !/[^\x20-\x7e]/.test(value));
    const fields = latin1.map(([value]): [string, string] => ['X-N', value]);
    for (const step of [1, 3, 7, 1_000]) expect(parsedFields(fields, step)).toEqual(latin1.map(([, number]) => number));
  });

  it('gives the countable Content-Length of a head, or -1 for none, a bad one, two, or with Transfer-Encoding', () => {
    const length = (...pairs: string[]) => countableContentLength(new FieldList(pairs));
    expect(length('Content-Length', '1024')).toBe(1024);
    expect(length('content-length', '0')).toBe(0);
    expect(length('Date', 'x')).toBe(-1);
    expect(length('Content-Length', '1e3')).toBe(-1);
    expect(length('Content-Length', '5', 'Content-Length', '5')).toBe(-1);
    expect(length('Content-Length', '5', 'Transfer-Encoding', 'chunked')).toBe(-1);
  });
});

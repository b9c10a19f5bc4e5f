/**
 * The parser's fields kept as ranges into a copy of the head's bytes (HeadFields): a name or value
 * continued by a piece that does not follow it in the bytes is joined, and the buffer grows for a
 * head larger than it without losing what it held. (The parser's own splits across reads are
 * test/sidecar/http1/llhttp-glue.test.ts's.)
 */
import { describe, expect, it } from '@jest/globals';
import { HeadFields } from '../../../sidecar/http1/head-fields.js';

function written(fields: HeadFields): string {
  const out = Buffer.alloc(4_096);
  let at = 0;
  for (let index = 0; index < fields.count; index += 1) {
    at = fields.writeName(index, out, at);
    at += out.write('=', at, 'latin1');
    at = fields.writeValue(index, out, at);
    at += out.write(';', at, 'latin1');
  }
  return out.toString('latin1', 0, at);
}

describe('HeadFields', () => {
  it('joins a name and a value continued by pieces that do not follow them in the bytes', () => {
    const fields = new HeadFields();
    const chunk = Buffer.from('Con--tent-Type: te--xt/plain', 'latin1');
    const base = fields.appendBytes(chunk, 0, chunk.length);
    fields.addName(base + 0, base + 3);
    fields.addName(base + 5, base + 14);
    fields.addValue(base + 16, base + 18);
    fields.addValue(base + 20, base + 28);
    expect(fields.count).toBe(1);
    expect([fields.name(0), fields.value(0)]).toEqual(['Content-Type', 'text/plain']);
    expect(fields.isNamed(0, 'content-type')).toBe(true);
    expect(written(fields)).toBe('Content-Type=text/plain;');
  });

  it('keeps every field when a head outgrows its buffer, read after read', () => {
    const fields = new HeadFields();
    const expected: string[] = [];
    for (let read = 0; read < 30; read += 1) {
      const name = `X-Field-${read}`;
      const value = 'v'.repeat(read * 7);
      const chunk = Buffer.from(`--${name}: ${value}\r\n`, 'latin1');
      const base = fields.appendBytes(chunk, 2, 2 + name.length + 2 + value.length);
      fields.addName(base + 2, base + 2 + name.length);
      fields.addValue(base + 4 + name.length, base + 4 + name.length + value.length);
      expected.push(`${name}=${value};`);
    }
    expect(fields.count).toBe(30);
    expect(written(fields)).toBe(expected.join(''));
    expect(fields.value(29)).toBe('v'.repeat(29 * 7));
    fields.reset();
    expect(fields.count).toBe(0);
  });
});

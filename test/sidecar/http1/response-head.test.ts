/**
 * The client's response head is written into a buffer without lower-casing names or building
 * strings (sidecar/http1/response-head.ts); here it is compared with the same head built the
 * plain way, over generated header lists in any case.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { HOP_BY_HOP, isHopByHop, isNamed, type ResponseFraming } from '../../../sidecar/http1/heads.js';
import { ClientResponseHead } from '../../../sidecar/http1/response-head.js';

const NAMES = [...HOP_BY_HOP, 'x-request-id', 'content-length', 'content-type', 'server', 'date', 'etag', 'x-custom', 'tea', 'trailers', 'connectionx'];
const anyCase = (name: string) => fc.array(fc.boolean(), { minLength: name.length, maxLength: name.length })
  .map((upper) => [...name].map((char, index) => (upper[index] ? char.toUpperCase() : char)).join(''));
const headerName = fc.constantFrom(...NAMES).chain(anyCase);
const headerValue = fc.stringMatching(/^[\x21-\x7e][\x20-\x7e]{0,20}$/);

/** The head as the plain string concatenation builds it. */
function plainHead(status: number, text: string, headers: string[], requestId: string, framing: ResponseFraming, connection: string): string {
  const connectionValue = headers.flatMap((value, index) => (index % 2 === 1 && headers[index - 1]?.toLowerCase() === 'connection' ? [value] : [])).join(', ');
  const named = new Set(connectionValue.split(',').map((token) => token.trim().toLowerCase()).filter((token) => token !== '' && token !== 'close' && token !== 'keep-alive' && !['host', 'content-length', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'traceparent', 'tracestate'].includes(token)));
  let head = `HTTP/1.1 ${status} ${text}\r\n`;
  for (let index = 0; index < headers.length; index += 2) {
    const lower = (headers[index] as string).toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'x-request-id' || named.has(lower)) continue;
    if (lower === 'content-length' && framing !== 'length') continue;
    head += `${headers[index] as string}: ${headers[index + 1] as string}\r\n`;
  }
  head += `x-request-id: ${requestId}\r\n`;
  if (framing === 'chunked') head += 'transfer-encoding: chunked\r\n';
  if (connection !== '') head += `connection: ${connection}\r\n`;
  return `${head}\r\n`;
}

describe('names compared without lower-cased copies', () => {
  it('isHopByHop and isNamed agree with a lower-cased lookup', () => {
    fc.assert(fc.property(fc.oneof(headerName, fc.string({ maxLength: 20 })), fc.constantFrom(...NAMES), (name, lower) => {
      expect(isHopByHop(name)).toBe(HOP_BY_HOP.has(name.toLowerCase()));
      expect(isNamed(name, lower)).toBe(name.toLowerCase() === lower);
    }), { numRuns: 2_000 });
  });
});

describe('the client response head', () => {
  it('is the plain head, byte for byte, of the stated length', () => {
    fc.assert(fc.property(
      fc.integer({ min: 100, max: 599 }), fc.stringMatching(/^[A-Za-z ]{0,12}$/), fc.array(fc.tuple(headerName, headerValue), { maxLength: 12 }),
      fc.constantFrom<ResponseFraming>('length', 'chunked', 'none', 'eof'), fc.constantFrom<'' | 'close' | 'keep-alive'>('', 'close', 'keep-alive'),
      (status, text, pairs, framing, connection) => {
        const headers = pairs.flat();
        const head = new ClientResponseHead(status, text, headers, 'id-1', framing, connection);
        const bytes = head.toBuffer();
        expect(bytes.toString('latin1')).toBe(plainHead(status, text, headers, 'id-1', framing, connection));
        expect(bytes.length).toBe(head.length);
      },
    ), { numRuns: 1_000 });
  });
});

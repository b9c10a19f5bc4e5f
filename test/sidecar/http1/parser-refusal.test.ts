/**
 * The status for bytes llhttp refused, with the request split across reads at every point: an
 * unknown method token is 501 and a bad one 400, an unknown version 505, wherever the read ended
 * (as long as the read shows where the method ends).
 */
import { describe, expect, it } from '@jest/globals';
import { ERROR_OK, HEAD_BODY, HttpParser, REQUEST, type ParserSink } from '../../../sidecar/http1/llhttp.js';
import { parserRefusalStatus } from '../../../sidecar/http1/parser-refusal.js';

const sink: ParserSink = {
  onHead: () => HEAD_BODY,
  onBody: () => undefined,
  onMessageComplete: () => ERROR_OK,
};

/** The refusal status when `text` arrives in two reads split at `at`; 0 when the parser took it all. */
function statusSplitAt(text: string, at: number, maxHeadSize = 16 * 1024): number {
  const parser = new HttpParser(REQUEST, sink, maxHeadSize);
  try {
    for (const chunk of [Buffer.from(text.slice(0, at), 'latin1'), Buffer.from(text.slice(at), 'latin1')]) {
      if (parser.execute(chunk) !== ERROR_OK) return parserRefusalStatus(parser, chunk);
    }
    return 0;
  } finally {
    parser.close();
  }
}

describe('parserRefusalStatus', () => {
  it.each([
    ['FROBNICATE / HTTP/1.1\r\nhost: x\r\n\r\n', 501],
    ['GETX / HTTP/1.1\r\nhost: x\r\n\r\n', 501],
    ['get / HTTP/1.1\r\nhost: x\r\n\r\n', 501],
    ['GE\x01T / HTTP/1.1\r\nhost: x\r\n\r\n', 400],
    ['GET\x01 / HTTP/1.1\r\nhost: x\r\n\r\n', 400],
    ['GET / HTTP/1.2\r\nhost: x\r\n\r\n', 505],
    ['GET / HTTP/1.x\r\nhost: x\r\n\r\n', 400],
  ])('%j → %i, however it is split', (text, status) => {
    const statuses = new Set<number>();
    for (let at = 1; at < text.length; at += 1) statuses.add(statusSplitAt(text, at));
    expect([...statuses]).toEqual([status]);
  });

  it('judges a method by the bytes that arrived: HELLO then CRLF is 400, HEL alone could still become a method (501)', () => {
    expect(statusSplitAt('HELLO\r\n\r\n', 9)).toBe(400);
    expect(statusSplitAt('HELLO\r\n\r\n', 6)).toBe(400);
    expect(statusSplitAt('HELLO\r\n\r\n', 3)).toBe(501);
  });

  it('tells a target over the limit (414) from other fields over it (431)', () => {
    expect(statusSplitAt(`GET /${'a'.repeat(2000)} HTTP/1.1\r\nhost: x\r\n\r\n`, 10, 1024)).toBe(414);
    expect(statusSplitAt(`GET /${'a'.repeat(600)} HTTP/1.1\r\nhost: x\r\nx-big: ${'b'.repeat(600)}\r\n\r\n`, 10, 1024)).toBe(431);
  });
});

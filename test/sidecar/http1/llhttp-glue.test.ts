/**
 * The parser glue over llhttp's WebAssembly build: heads, fields and bodies come out the same
 * however the bytes are split across reads; limits, pauses and errors are reported as the data
 * path expects.
 */
import { describe, expect, it } from '@jest/globals';
import { ERROR_OK, ERROR_PAUSED, HEAD_BODY, HttpParser, REQUEST, RESPONSE, type ParserSink } from '../../../sidecar/http1/llhttp.js';

interface Parsed {
  method: string;
  target: string;
  status: number;
  statusText: string;
  headers: string[];
  keepAlive: boolean;
  upgrade: boolean;
  body: string;
}

class Collector implements ParserSink {
  readonly messages: Parsed[] = [];
  private body: Buffer[] = [];
  pauseAfterEach = false;

  onHead(parser: HttpParser): number {
    this.messages.push({
      method: parser.method, target: parser.target, status: parser.statusCode, statusText: parser.statusText,
      headers: [...parser.headers], keepAlive: parser.keepAlive, upgrade: parser.upgrade, body: '',
    });
    this.body = [];
    return HEAD_BODY;
  }

  onBody(piece: Buffer): void {
    this.body.push(Buffer.from(piece)); // a view into the chunk: copied, as a consumer keeping it must
  }

  onMessageComplete(): number {
    (this.messages[this.messages.length - 1] as Parsed).body = Buffer.concat(this.body).toString('latin1');
    return this.pauseAfterEach ? ERROR_PAUSED : ERROR_OK;
  }
}

function parseIn(kind: typeof REQUEST | typeof RESPONSE, pieces: Buffer[], maxHeadSize = 16 * 1024): { messages: Parsed[]; results: number[] } {
  const sink = new Collector();
  const parser = new HttpParser(kind, sink, maxHeadSize);
  const results = pieces.map((piece) => parser.execute(piece));
  parser.close();
  return { messages: sink.messages, results };
}

const manyFields = Array.from({ length: 40 }, (_, index) => `x-field-${index}: value ${index}\r\n`).join('');
const REQUESTS = Buffer.from(
  'POST /upload?x=1 HTTP/1.1\r\nHost: app.example\r\nTransfer-Encoding: chunked\r\nX-Empty:\r\nX-Two: a\r\nX-Two: b\r\n\r\n'
  + '5;ext=1\r\nhello\r\n1a\r\n, world of split reads!!!!\r\n0\r\nTrailer-A: 1\r\n\r\n'
  + `GET /many HTTP/1.1\r\nHost: app.example\r\n${manyFields}\r\n`
  + 'PUT /len HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello there',
  'latin1',
);

describe('llhttp glue', () => {
  const whole = parseIn(REQUEST, [REQUESTS]);

  it('parses pipelined requests: methods, targets, every field (more than 32, empty values, repeats), bodies', () => {
    expect(whole.results).toEqual([ERROR_OK]);
    expect(whole.messages.map((message) => [message.method, message.target, message.body])).toEqual([
      ['POST', '/upload?x=1', 'hello, world of split reads!!!!'],
      ['GET', '/many', ''],
      ['PUT', '/len', 'hello there'],
    ]);
    expect(whole.messages[0]?.headers).toEqual(['Host', 'app.example', 'Transfer-Encoding', 'chunked', 'X-Empty', '', 'X-Two', 'a', 'X-Two', 'b']);
    expect(whole.messages[1]?.headers).toHaveLength(2 * 41);
    expect(whole.messages.map((message) => message.keepAlive)).toEqual([true, true, false]);
  });

  it('gives the same messages for every split of the bytes into two reads', () => {
    for (let offset = 1; offset < REQUESTS.length; offset += 1) {
      const split = parseIn(REQUEST, [REQUESTS.subarray(0, offset), REQUESTS.subarray(offset)]);
      expect({ offset, messages: split.messages }).toEqual({ offset, messages: whole.messages });
    }
  });

  it('gives the same messages when fed one byte at a time', () => {
    const bytes = Array.from({ length: REQUESTS.length }, (_, index) => REQUESTS.subarray(index, index + 1));
    expect(parseIn(REQUEST, bytes).messages).toEqual(whole.messages);
  });

  it('pauses after a message when asked and reports how much it consumed', () => {
    const sink = new Collector();
    sink.pauseAfterEach = true;
    const parser = new HttpParser(REQUEST, sink, 16 * 1024);
    let rest = REQUESTS;
    const targets: string[] = [];
    for (let guard = 0; rest.length > 0 && guard < 10; guard += 1) {
      const result = parser.execute(rest);
      targets.push(sink.messages[sink.messages.length - 1]?.target ?? '');
      if (result === ERROR_PAUSED) parser.resume();
      rest = result === ERROR_PAUSED ? rest.subarray(parser.consumed) : Buffer.alloc(0);
    }
    parser.close();
    expect(targets).toEqual(['/upload?x=1', '/many', '/len']);
  });

  it('reports a head over the limit as HPE_HEADER_OVERFLOW', () => {
    const sink = new Collector();
    const parser = new HttpParser(REQUEST, sink, 1024);
    const result = parser.execute(Buffer.from(`GET / HTTP/1.1\r\nHost: a\r\nx-big: ${'a'.repeat(2000)}\r\n\r\n`));
    parser.close();
    expect([result === ERROR_OK, parser.errorCode]).toEqual([false, 'HPE_HEADER_OVERFLOW']);
  });

  it('refuses smuggling framings and bare LF with a named error', () => {
    for (const text of [
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx',
      'GET / HTTP/1.1\nHost: a\n\n',
      'GET  / HTTP/1.1\r\nHost: a\r\n\r\n',
    ]) {
      const sink = new Collector();
      const parser = new HttpParser(REQUEST, sink, 16 * 1024);
      const result = parser.execute(Buffer.from(text));
      parser.close();
      expect({ text, failed: result !== ERROR_OK && result !== ERROR_PAUSED, named: parser.errorCode.startsWith('HPE_') }).toEqual({ text, failed: true, named: true });
    }
  });

  it('parses responses: status, reason phrase, interim responses, a close-delimited body', () => {
    const sink = new Collector();
    const parser = new HttpParser(RESPONSE, sink, 16 * 1024);
    const result = parser.execute(Buffer.from('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 Fine Thanks\r\nX-A: 1\r\n\r\nuntil the end'));
    const finished = parser.finish();
    parser.close();
    expect([result, finished]).toEqual([ERROR_OK, ERROR_OK]);
    expect(sink.messages.map((message) => [message.status, message.statusText, message.body])).toEqual([
      [103, 'Early Hints', ''],
      [200, 'Fine Thanks', 'until the end'],
    ]);
  });
});

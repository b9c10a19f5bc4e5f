/**
 * The two parsers alone, no sockets (issue 18's question: WebAssembly llhttp for everything, or
 * Node's native binding for heads with bodies framed by native-parser.ts). Per message, one read
 * per message, paused after each as the data path does: the bench's request (wrk's GET), nginx's
 * 1 KiB response, and a 100 KiB response in two reads. It imports the sources, so bundle it first:
 *   npx esbuild bench/parser-micro.ts --bundle --platform=node --format=esm --outfile=dist/parser-micro.mjs && node dist/parser-micro.mjs
 */
import { ERROR_OK, ERROR_PAUSED, HttpParser, REQUEST, RESPONSE, type MessageParser, type ParserSink } from '../sidecar/http1/llhttp.js';
import { NativeParser } from '../sidecar/http1/native-parser.js';

type ParserClass = new (kind: typeof REQUEST | typeof RESPONSE, sink: ParserSink, maxHeadSize: number) => MessageParser;

class Sink implements ParserSink {
  fields = 0;
  bytes = 0;

  onHead(parser: MessageParser): number {
    this.fields += parser.headers.length;
    return 0;
  }

  onBody(piece: Buffer): void {
    this.bytes += piece.length;
  }

  onMessageComplete(): number {
    return ERROR_PAUSED;
  }
}

const REQUEST_BYTES = Buffer.from('GET /1k HTTP/1.1\r\nHost: 127.0.0.1:18081\r\n\r\n', 'latin1');
const responseHead = (length: number): Buffer => Buffer.from(`HTTP/1.1 200 OK\r\nServer: nginx/1.26.3\r\nDate: Wed, 02 Dec 2026 10:00:00 GMT\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\nLast-Modified: Wed, 02 Dec 2026 09:00:00 GMT\r\nConnection: keep-alive\r\nETag: "692eab10-400"\r\nAccept-Ranges: bytes\r\n\r\n`, 'latin1');
const SMALL = Buffer.concat([responseHead(1024), Buffer.alloc(1024, 0x78)]);
const BIG = Buffer.concat([responseHead(102_400), Buffer.alloc(102_400, 0x78)]);

/** Nanoseconds per message. */
function measure(Parser: ParserClass, kind: typeof REQUEST | typeof RESPONSE, reads: readonly Buffer[], count: number): number {
  const sink = new Sink();
  const parser = new Parser(kind, sink, 16 * 1024);
  const started = process.hrtime.bigint();
  for (let index = 0; index < count; index += 1) {
    for (const read of reads) {
      const result = parser.execute(read);
      if (result === ERROR_PAUSED) parser.resume();
      else if (result !== ERROR_OK) throw new Error(`${parser.errorCode}: ${parser.errorReason}`);
    }
  }
  const elapsed = Number(process.hrtime.bigint() - started);
  parser.close();
  return elapsed / count;
}

const parsers: [string, ParserClass][] = [['wasm', HttpParser], ['native', NativeParser]];
for (let round = 0; round < 5; round += 1) {
  console.log(parsers.map(([name, Parser]) => `${name}: request ${measure(Parser, REQUEST, [REQUEST_BYTES], 200_000).toFixed(0)} ns, `
    + `1 KiB response ${measure(Parser, RESPONSE, [SMALL], 200_000).toFixed(0)} ns, `
    + `100 KiB response ${measure(Parser, RESPONSE, [BIG.subarray(0, 65_536), BIG.subarray(65_536)], 20_000).toFixed(0)} ns`).join(' | '));
}

/**
 * Node's floor for proxying, the bench's yardstick for what of the sidecar's gap to nginx is Node's
 * (event loop, libuv, syscalls, streams, GC) and what is ours: the smallest proxy on `net` sockets
 * the bench's load allows. Each client connection gets its own app connection and bytes are
 * copied both ways as they come. wrk and h2load send keep-alive GETs, one at a time per
 * connection, so for them a 1:1 pipe is a correct proxy: no pool, no parsing, no rewriting.
 * With --llhttp each direction also goes through the sidecar's own llhttp glue (the built
 * dist/sidecar/http1/llhttp.js), parsed and forwarded untouched: what framing alone adds.
 *
 *   node bench/floor-proxy.ts LISTEN_PORT APP_PORT [--llhttp]
 *
 * Started by bench/run.ts with the sidecar's Node binary, NODE_OPTIONS and heap growth.
 */
import { connect, createServer, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

type Llhttp = typeof import('../sidecar/http1/llhttp.ts');

const [listenPort, appPort] = process.argv.slice(2, 4).map(Number) as [number, number];
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const llhttp = process.argv.includes('--llhttp') ? await import(join(root, 'dist', 'sidecar', 'http1', 'llhttp.js')) as Llhttp : null;
/** The sidecar's default limit (16 KiB); a head above it is not what this load sends. */
const MAX_HEAD = 16_384;

/** Parse and forget: every head and body is framed as the sidecar frames it, nothing is kept. */
const discard = { onHead: () => 0, onBody: () => undefined, onMessageComplete: () => 0 };

type Parser = InstanceType<Llhttp['HttpParser']>;

/** Bytes from `from` to `to` with backpressure; parsed first when there is a parser. */
function forward(from: Socket, to: Socket, parser: Parser | null): void {
  from.on('data', (chunk: Buffer) => {
    if (parser !== null && parser.execute(chunk) !== 0) {
      from.destroy();
      return;
    }
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => from.resume());
  from.on('end', () => to.end());
  from.on('error', () => undefined);
  from.on('close', () => {
    parser?.close();
    to.destroy();
  });
}

createServer({ noDelay: true }, (client) => {
  const app = connect({ host: '127.0.0.1', port: appPort, noDelay: true });
  forward(client, app, llhttp === null ? null : new llhttp.HttpParser(llhttp.REQUEST, discard, MAX_HEAD));
  forward(app, client, llhttp === null ? null : new llhttp.HttpParser(llhttp.RESPONSE, discard, MAX_HEAD));
}).listen({ port: listenPort, host: '127.0.0.1', backlog: 4096 });

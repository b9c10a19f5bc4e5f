/**
 * The app's sockets read into one buffer reused by every upstream connection. A response piece
 * written to a client that is not reading stays queued in Node; if it were a view of that buffer,
 * the next read from any app connection would overwrite bytes this client has not received yet.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { startSidecar, type Harness } from '../../support/sidecar-harness.js';

/** Far more than the kernel's socket buffers hold on loopback, so most of it queues in the sidecar. */
const SLOW_BODY = 24 * 1024 * 1024;
const FAST_BODY = 4 * 1024 * 1024;

let app: Server | null = null;
let sidecar: Harness | null = null;

afterEach(async () => {
  await sidecar?.close();
  await new Promise((resolve) => app === null ? resolve(undefined) : app.close(resolve));
  app = null;
  sidecar = null;
});

/** Answers GET /<letter>/<bytes> with that many bytes of that letter, in 64 KiB writes, chunked or not. */
async function patternApp(): Promise<number> {
  app = createServer((socket) => {
    socket.on('error', () => undefined);
    let head = '';
    socket.on('data', (data: Buffer) => {
      head += data.toString('latin1');
      const match = /^GET \/(\w)\/(\d+)\/(\w+) /.exec(head);
      if (match === null || !head.includes('\r\n\r\n')) return;
      head = '';
      const [, letter, size, framing] = match as unknown as [string, string, string, string];
      void send(socket, letter, Number(size), framing === 'chunked');
    });
  });
  await new Promise<void>((resolve) => app?.listen(0, '127.0.0.1', resolve));
  return (app.address() as AddressInfo).port;
}

async function send(socket: Socket, letter: string, size: number, chunked: boolean): Promise<void> {
  socket.write(`HTTP/1.1 200 OK\r\n${chunked ? 'transfer-encoding: chunked' : `content-length: ${size}`}\r\n\r\n`);
  const piece = Buffer.alloc(65_536, letter);
  for (let sent = 0; sent < size; sent += piece.length) {
    const part = piece.subarray(0, Math.min(piece.length, size - sent));
    const more = socket.write(chunked ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]) : part);
    if (!more) await new Promise((resolve) => socket.once('drain', resolve));
  }
  if (chunked) socket.write('0\r\n\r\n');
}

/** The body bytes (after the head) of one response read to its end, decoded if chunked. */
function bodyOf(raw: Buffer, chunked: boolean): Buffer {
  let rest = raw.subarray(raw.indexOf('\r\n\r\n') + 4);
  if (!chunked) return rest;
  const parts: Buffer[] = [];
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    const size = parseInt(rest.subarray(0, lineEnd).toString('latin1'), 16);
    if (size === 0) return Buffer.concat(parts);
    parts.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
    rest = rest.subarray(lineEnd + 4 + size);
  }
}

/** Sends one request and collects `expected` body bytes' worth of response, reading only once `start` resolves. */
function fetchRaw(port: number, path: string, expectedBody: number, start: Promise<void>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const client = connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    let length = 0;
    client.on('error', reject);
    client.pause();
    client.write(`GET ${path} HTTP/1.1\r\nhost: app\r\n\r\n`);
    void start.then(() => {
      client.on('data', (data: Buffer) => {
        parts.push(data);
        length += data.length;
        if (length >= expectedBody) {
          const raw = Buffer.concat(parts);
          const complete = path.endsWith('chunked') ? raw.subarray(-5).toString('latin1') === '0\r\n\r\n' : raw.length - raw.indexOf('\r\n\r\n') - 4 >= expectedBody;
          if (complete) {
            client.destroy();
            resolve(raw);
          }
        }
      });
      client.resume();
    });
  });
}

function onlyLetter(body: Buffer, letter: string): boolean {
  const code = letter.charCodeAt(0);
  return body.every((byte) => byte === code);
}

describe('reused read buffer of the app connections', () => {
  for (const framing of ['length', 'chunked']) {
    it(`a slow client's queued response (${framing}) is not overwritten by other app connections' reads`, async () => {
      const port = await patternApp();
      sidecar = await startSidecar(`http://127.0.0.1:${port}`, { circuitBreaker: { volumeThreshold: 1000 } });
      const proxyPort = sidecar.address.port;
      let releaseSlow!: () => void;
      const slowMayRead = new Promise<void>((resolve) => { releaseSlow = resolve; });
      const slow = fetchRaw(proxyPort, `/a/${SLOW_BODY}/${framing}`, SLOW_BODY, slowMayRead);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the slow response fills the queues
      for (let index = 0; index < 3; index += 1) {
        const fast = bodyOf(await fetchRaw(proxyPort, `/b/${FAST_BODY}/${framing}`, FAST_BODY, Promise.resolve()), framing === 'chunked');
        expect(fast.length).toBe(FAST_BODY);
        expect(onlyLetter(fast, 'b')).toBe(true);
      }
      releaseSlow();
      const body = bodyOf(await slow, framing === 'chunked');
      expect(body.length).toBe(SLOW_BODY);
      expect(onlyLetter(body, 'a')).toBe(true);
    }, 30_000);
  }
});

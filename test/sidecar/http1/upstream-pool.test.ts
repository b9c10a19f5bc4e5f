/**
 * The upstream keep-alive pool: connections are reused after clean responses, never after a
 * framing anomaly or `Connection: close`, and carry one request at a time.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { request } from 'undici';
import { eventually } from '../../support/cli.js';
import type { UpstreamConnection, UpstreamUser } from '../../../sidecar/http1/upstream-connection.js';
import { HEAD_BODY } from '../../../sidecar/http1/llhttp.js';
import { UpstreamPool } from '../../../sidecar/http1/upstream-pool.js';
import { deadlinesOf } from '../../../sidecar/core/deadlines.js';
import { sidecarConfig, startSidecar, type Harness } from '../../support/sidecar-harness.js';

/**
 * A raw app: answers each GET head with `answer(n)` (n counts requests), counting connections; an
 * array answer is written piece by piece, PIECE_GAP_MS apart (separate reads at the sidecar).
 */
class CountingApp {
  connections = 0;
  requests = 0;
  /** Most requests one connection had outstanding at once (1 when the pool never pipelines). */
  maxOutstanding = 0;
  /** While set, answers wait for it: requests stay outstanding for exactly as long as a test needs. */
  hold: Promise<void> | undefined;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly answer: (n: number) => string | string[], private readonly delayMs = 0) {
    this.server = createServer((socket) => {
      this.connections += 1;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      let buffered = '';
      let outstanding = 0;
      socket.on('data', (data: Buffer) => {
        buffered += data.toString('latin1');
        while (buffered.includes('\r\n\r\n')) {
          buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
          this.requests += 1;
          outstanding += 1;
          this.maxOutstanding = Math.max(this.maxOutstanding, outstanding);
          const text = this.answer(this.requests);
          const answer = (): void => {
            outstanding -= 1;
            const pieces = typeof text === 'string' ? [text] : text;
            pieces.forEach((piece, index) => setTimeout(() => { if (!socket.destroyed) socket.write(piece); }, index * PIECE_GAP_MS));
          };
          const hold = this.hold;
          setTimeout(() => { if (hold) void hold.then(answer); else answer(); }, this.delayMs);
        }
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
const PIECE_GAP_MS = 15;

let app: CountingApp | undefined;
let sidecar: Harness | undefined;
afterEach(async () => {
  await sidecar?.close();
  await app?.close();
  sidecar = undefined;
  app = undefined;
});

async function get(url: string, method = 'GET'): Promise<number> {
  const response = await request(url, { method, reset: true });
  await response.body.text();
  return response.statusCode;
}

async function setup(answer: (n: number) => string | string[], delayMs = 0): Promise<{ app: CountingApp; url: string }> {
  app = new CountingApp(answer, delayMs);
  const upstream = await app.start();
  sidecar = await startSidecar(upstream, { circuitBreaker: { volumeThreshold: 1_000_000 }, timeouts: { idle: '30s' } });
  return { app, url: sidecar.url };
}

describe('upstream pool', () => {
  it('reuses one connection for sequential requests', async () => {
    const { app, url } = await setup(() => OK);
    for (let index = 0; index < 5; index += 1) expect(await get(url)).toBe(200);
    expect([app.requests, app.connections]).toEqual([5, 1]);
  });

  it('delivers a Content-Length body that arrives over several reads whole, then reuses the connection', async () => {
    const { app, url } = await setup(() => ['HTTP/1.1 200 OK\r\ncontent-length: 30\r\n\r\n', 'a'.repeat(10), 'b'.repeat(10), 'c'.repeat(10)]);
    for (let index = 0; index < 3; index += 1) {
      const response = await request(url, { reset: true });
      expect([response.statusCode, await response.body.text()]).toEqual([200, `${'a'.repeat(10)}${'b'.repeat(10)}${'c'.repeat(10)}`]);
    }
    expect([app.requests, app.connections]).toEqual([3, 1]);
  });

  it('never reuses a connection when bytes beyond a Content-Length body arrive with its last piece', async () => {
    const { app, url } = await setup(() => ['HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nab', 'cdX']);
    for (let index = 0; index < 2; index += 1) {
      const response = await request(url, { reset: true });
      expect([response.statusCode, await response.body.text()]).toEqual([200, 'abcd']);
    }
    expect(app.connections).toBe(2);
  });

  it('never reuses a connection after bytes beyond the response', async () => {
    const { app, url } = await setup(() => `${OK}X`);
    expect([await get(url), await get(url), await get(url)]).toEqual([200, 200, 200]);
    expect([app.requests, app.connections]).toEqual([3, 3]);
  });

  it('never reuses a connection the app asked to close', async () => {
    const { app, url } = await setup(() => 'HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok');
    expect([await get(url), await get(url)]).toEqual([200, 200]);
    expect(app.connections).toBe(2);
  });

  it('never reuses a connection after a body sent to HEAD', async () => {
    const { app, url } = await setup(() => `${OK}`);
    expect(await get(url, 'HEAD')).toBe(200); // the app sends "ok" after a HEAD response head
    expect(await get(url)).toBe(200);
    expect(app.connections).toBe(2);
  });

  it('reuses after an HTTP/1.0 response only when it said keep-alive', async () => {
    const { app, url } = await setup((n) => (n === 1 ? 'HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok' : OK));
    expect([await get(url), await get(url), await get(url)]).toEqual([200, 200, 200]);
    expect(app.connections).toBe(2);
  });

  it('sends one request at a time per connection, opening more for concurrent requests', async () => {
    const { app, url } = await setup(() => OK);
    let release = (): void => undefined;
    app.hold = new Promise<void>((resolve) => { release = resolve; });
    const wave = Promise.all(Array.from({ length: 8 }, () => get(url)));
    await eventually(() => app.requests === 8, 10_000, 'eight requests at the app at once');
    app.hold = undefined;
    release();
    const statuses = await wave;
    expect(statuses).toEqual(Array.from({ length: 8 }, () => 200));
    expect(app.maxOutstanding).toBe(1);
    expect(app.connections).toBe(8);
    // Those connections are pooled: a second wave opens none.
    await Promise.all(Array.from({ length: 8 }, () => get(url)));
    expect(app.connections).toBe(8);
  });

  it('a connection paused on its response\'s last piece (a slow client) reads again once pooled', async () => {
    app = new CountingApp(() => OK);
    const pool = new UpstreamPool(new URL(await app.start()), deadlinesOf(sidecarConfig({}).timeouts), 16 * 1024);
    /** One GET over `connection`; `pause` stops reading at every body piece, as the exchange does when its client backs up. */
    const exchange = (connection: UpstreamConnection, pause: boolean) => new Promise<string>((resolve) => {
      const user: UpstreamUser = {
        onResponseHead: () => HEAD_BODY,
        onInterim: () => false,
        onResponseBody: () => { if (pause) connection.pause(); },
        onResponseEnd: () => resolve('complete'),
        onUpgrade: () => resolve('upgrade'),
        onUpstreamError: (error) => resolve(error.reason),
        onUpstreamDrain: () => undefined,
        onChunkParsed: () => undefined,
      };
      connection.start(user, 'GET / HTTP/1.1\r\nhost: x\r\n\r\n', false, { connectMs: 1_000, responseMs: 1_000, responseBodyIdleMs: 1_000 });
    });
    try {
      const first = pool.acquire(false);
      expect(await exchange(first, true)).toBe('complete');
      const second = pool.acquire(false);
      expect(second).toBe(first);
      // Reused while still paused, the response would never be read: a timeout after 1 s.
      expect(await exchange(second, false)).toBe('complete');
      expect(app.requests).toBe(2);
    } finally {
      await pool.destroy();
    }
  });
});

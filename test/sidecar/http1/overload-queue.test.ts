/**
 * The limiter on the llhttp path, seen from raw client sockets: a queued request's body is not
 * read and no 100 Continue goes out before it is admitted; an answer without the app closes a
 * connection whose body is unread; a client that leaves the queue frees its place.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../../support/cli.js';
import { loadedAppFixtures, type LoadedApp } from '../../support/loaded-app.js';
import { fetchText, sidecarFixtures, type Harness } from '../../support/sidecar-harness.js';

const fixtures = sidecarFixtures();
const loadedApps = loadedAppFixtures();
const heldApp = (): Promise<LoadedApp> => loadedApps.start(true);
const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

const enforce = (limit: number, queue: { size: number; timeout?: string }) => ({ overload: { mode: 'enforce', limit, queue } });
const until = (check: () => boolean, what: string) => eventually(check, 10_000, what);

/** A raw client connection that keeps everything it received and whether the sidecar ended it. */
/**
 * A sidecar that forwards one request at a time (`queue` behind it), its one slot taken by a
 * request to `path` that the app holds until released.
 */
async function slotTaken(queue: { size: number; timeout?: string }, path: string): Promise<{ app: LoadedApp; sidecar: Harness; first: ReturnType<typeof fetchText> }> {
  const app = await heldApp();
  const sidecar = await fixtures.sidecar(app.url, enforce(1, queue));
  const first = fetchText(`${sidecar.url}${path}`);
  await until(() => app.heldCount === 1, `${path} at the app`);
  return { app, sidecar, first };
}

async function rawClient(url: string) {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const client = { socket, received: '', ended: false };
  socket.setEncoding('latin1');
  socket.on('data', (text: string) => { client.received += text; });
  socket.on('end', () => { client.ended = true; });
  socket.on('error', () => undefined);
  return client;
}

describe('overload on the llhttp path: a queued request', () => {
  it('gets no 100 Continue before it is admitted, then sends its body to the app', async () => {
    const { app, sidecar, first } = await slotTaken({ size: 1, timeout: '10s' }, '/first');
    const client = await rawClient(sidecar.url);
    client.socket.write('POST /queued HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nexpect: 100-continue\r\n\r\n');
    await until(() => sidecar.proxy.overloadState().queued === 1, 'the POST queued');
    await sleep(100);
    expect(client.received).toBe('');
    app.release();
    await until(() => client.received.startsWith('HTTP/1.1 100 Continue\r\n\r\n'), '100 Continue after admission');
    client.socket.write('hello');
    await until(() => client.received.includes('HTTP/1.1 200 '), 'the app answered the queued POST');
    expect(app.seen).toEqual(['/first', '/queued']);
    expect((await first).status).toBe(200);
    await until(() => sidecar.proxy.overloadState().inFlight === 0, 'the permits released');
  });

  it('without a body, once admitted, completes and keeps its connection for the next request', async () => {
    const { app, sidecar, first } = await slotTaken({ size: 1, timeout: '10s' }, '/first');
    const client = await rawClient(sidecar.url);
    client.socket.write('GET /queued HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => sidecar.proxy.overloadState().queued === 1, 'the request queued');
    app.release();
    await until(() => client.received.includes('done\n'), 'the queued request answered');
    await sleep(50);
    expect(client.ended).toBe(false);
    client.socket.write('GET /again HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => client.received.split('HTTP/1.1 200 ').length === 3, 'the next request on the same connection');
    expect(app.seen).toEqual(['/first', '/queued', '/again']);
    expect((await first).status).toBe(200);
  });

  it('leaves its body unread while it waits and, shed, closes the connection', async () => {
    const { app, sidecar, first: held } = await slotTaken({ size: 1, timeout: '150ms' }, '/');
    const client = await rawClient(sidecar.url);
    client.socket.write('POST /waits HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello');
    await until(() => client.ended, 'the sidecar closed the connection');
    expect(client.received).toMatch(/^HTTP\/1\.1 503 /);
    expect(client.received).toContain('x-badgateway-reason: overloaded\r\n');
    expect(client.received).toContain('proxy-status: badgateway; error=connection_limit_reached\r\n');
    expect(client.received).toContain('connection: close\r\n');
    expect(app.seen).not.toContain('/waits');
    expect(sidecar.metrics.requests).toContainEqual({ code: 503, reason: 'overloaded' });
    app.release();
    await held;
  });

  it('without a body, shed from the queue, keeps the connection for the next request', async () => {
    const { app, sidecar, first: held } = await slotTaken({ size: 1, timeout: '100ms' }, '/');
    const client = await rawClient(sidecar.url);
    client.socket.write('GET /one HTTP/1.1\r\nhost: x\r\n\r\nGET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => client.received.includes('ok\n'), 'the pipelined health check answered after the shed');
    expect(client.received).toMatch(/^HTTP\/1\.1 503 /);
    expect(client.received.indexOf('HTTP/1.1 200 ')).toBeGreaterThan(client.received.indexOf('HTTP/1.1 503 '));
    expect(client.ended).toBe(false);
    app.release();
    await held;
  });

  it('leaves the queue when its client disconnects, and its place goes to the next request', async () => {
    const { app, sidecar, first } = await slotTaken({ size: 1, timeout: '10s' }, '/first');
    const client = await rawClient(sidecar.url);
    client.socket.write('GET /gone HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => sidecar.proxy.overloadState().queued === 1, 'the request queued');
    client.socket.destroy();
    await until(() => sidecar.proxy.overloadState().queued === 0, 'the request left the queue');
    const next = fetchText(`${sidecar.url}/next`);
    await until(() => sidecar.proxy.overloadState().queued === 1, 'the next request queued');
    app.release();
    expect((await first).status).toBe(200);
    expect((await next).status).toBe(200);
    expect(app.seen).toEqual(['/first', '/next']);
    expect(sidecar.metrics.sheds).toEqual([]);
    await until(() => sidecar.proxy.overloadState().inFlight === 0, 'the permits released');
  });

  it('is answered by the open circuit, not the app, when the circuit opens while it waits', async () => {
    const app = await fixtures.upstream();
    app.mode = { kind: 'slow', delayMs: 5_000 };
    const sidecar = await fixtures.sidecar(app.url, {
      ...enforce(1, { size: 1, timeout: '10s' }),
      timeouts: { response: '300ms' },
      circuitBreaker: { volumeThreshold: 1, errorThresholdPercentage: 50 },
    });
    const first = fetchText(`${sidecar.url}/first`);
    await until(() => app.seen.length === 1, 'the first request at the app');
    const client = await rawClient(sidecar.url);
    client.socket.write('GET /queued HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => sidecar.proxy.overloadState().queued === 1, 'the request queued');
    expect((await first).status).toBe(504); // a failure: the circuit opens, then the slot frees
    await until(() => client.received.includes('\r\n\r\n'), 'the queued request answered');
    expect(client.received).toContain('x-badgateway-reason: circuit-open\r\n');
    expect(app.seen.map((request) => request.url)).toEqual(['/first']);
    await until(() => sidecar.proxy.overloadState().inFlight === 0, 'the permits released');
  });

  it('never holds back an upgrade (WebSocket) request: tunnels bypass the limiter', async () => {
    const { app, sidecar, first: held } = await slotTaken({ size: 0 }, '/held');
    const client = await rawClient(sidecar.url);
    client.socket.write('GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
    await until(() => app.seen.includes('/ws'), 'the upgrade request at the app');
    expect(client.received).toBe('');
    expect(sidecar.metrics.sheds).toEqual([]);
    app.release();
    await held;
  });
});

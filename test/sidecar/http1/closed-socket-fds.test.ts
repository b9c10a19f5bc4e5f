/**
 * A client connection the sidecar ends while it is not reading (a pipelined request held back, an
 * upgrade request waiting for its 101) must still see the client's reset and release its fd.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { startSidecar, type Harness } from '../../support/sidecar-harness.js';

const ROUNDS = 12;

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

async function fdsSettleTo(limit: number, withinMs: number): Promise<number> {
  const deadline = Date.now() + withinMs;
  let count = openFds();
  while (count > limit && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    count = openFds();
  }
  return count;
}

/**
 * Sends `request`, then (a moment later, so they reach a connection that stopped reading) `more`
 * and a FIN; reads the answer until the sidecar closes.
 */
async function sendAndHangUp(port: number, request: string, more: string): Promise<string> {
  const client: Socket = connect(port, '127.0.0.1');
  client.on('error', () => undefined);
  let text = '';
  client.on('data', (data: Buffer) => { text += data.toString('latin1'); });
  const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
  client.write(request);
  await new Promise((resolve) => setTimeout(resolve, 30));
  client.end(more);
  await closed;
  return text;
}

describe('client sockets ended while paused', () => {
  let app: Server | null = null;
  let sidecar: Harness | null = null;
  const appSockets = new Set<Socket>();

  afterEach(async () => {
    await sidecar?.close();
    for (const socket of appSockets) socket.destroy();
    await new Promise((resolve) => (app === null ? resolve(undefined) : app.close(resolve)));
    app = null;
    sidecar = null;
  });

  async function start(onRequest: (socket: Socket) => void, config: unknown = {}): Promise<number> {
    app = createServer((socket) => {
      appSockets.add(socket);
      socket.on('close', () => appSockets.delete(socket));
      socket.on('error', () => undefined);
      socket.on('data', () => onRequest(socket));
    });
    await new Promise<void>((resolve) => (app as Server).listen(0, '127.0.0.1', resolve));
    sidecar = await startSidecar(`http://127.0.0.1:${(app.address() as AddressInfo).port}`, config);
    return sidecar.address.port;
  }

  /** After a warm-up, ROUNDS of `request` then `more` and a FIN, each answered `answer`: no fd left open. */
  async function roundsLeaveNoFds(port: number, request: string, more: string, answer: RegExp): Promise<void> {
    await sendAndHangUp(port, 'GET /warm HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n', '');
    const baseline = await fdsSettleTo(0, 0);
    for (let round = 0; round < ROUNDS; round += 1) expect(await sendAndHangUp(port, request, more)).toMatch(answer);
    expect(await fdsSettleTo(baseline + 2, 3_000)).toBeLessThanOrEqual(baseline + 2);
  }

  it('a Connection: close request with a pipelined one behind it', async () => {
    const port = await start((socket) => setTimeout(() => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'), 150));
    await roundsLeaveNoFds(port, 'GET /a HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n', 'GET /b HTTP/1.1\r\nhost: x\r\n\r\n', /^HTTP\/1\.1 200 /);
  });

  it('an upgrade request the app fails', async () => {
    const port = await start((socket) => setTimeout(() => socket.resetAndDestroy(), 150));
    await roundsLeaveNoFds(port, 'GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: echo\r\n\r\n', 'early tunnel bytes', /^HTTP\/1\.1 502 /);
  });
});

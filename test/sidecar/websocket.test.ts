import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { eventually } from '../support/cli.js';
import { closedPort } from '../support/faulty-upstream.js';
import { startSidecar, type Harness } from '../support/sidecar-harness.js';

let sidecar: Harness | undefined;
let app: Server | undefined;
let wss: WebSocketServer | undefined;
afterEach(async () => {
  await sidecar?.close();
  wss?.close();
  await new Promise<void>((resolve) => (app ? app.close(() => resolve()) : resolve()));
  sidecar = undefined;
  app = undefined;
  wss = undefined;
});

describe('websocket tunnelling', () => {
  it('echoes messages through the sidecar', async () => {
    app = createServer();
    wss = new WebSocketServer({ server: app });
    wss.on('connection', (socket, req) => {
      socket.on('message', (data) => socket.send(`echo:${String(data)}:${req.headers['x-request-id'] ? 'id' : 'no-id'}`));
    });
    await new Promise<void>((resolve) => app!.listen(0, '127.0.0.1', resolve));
    sidecar = await startSidecar(`http://127.0.0.1:${(app.address() as AddressInfo).port}`);
    const client = new WebSocket(`ws://127.0.0.1:${sidecar.address.port}/chat`);
    await new Promise((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    });
    const reply = new Promise<string>((resolve) => client.once('message', (data) => resolve(String(data))));
    client.send('hello');
    expect(await reply).toBe('echo:hello:id');
    client.close();
  });

  it('answers an upgrade to a dead app with a 502 and counts it as a failure', async () => {
    sidecar = await startSidecar(`http://127.0.0.1:${await closedPort()}`, { circuitBreaker: { volumeThreshold: 1, errorThresholdPercentage: 1 } });
    const client = new WebSocket(`ws://127.0.0.1:${sidecar.address.port}/chat`);
    const status = await new Promise<number>((resolve) => {
      client.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      client.once('error', () => resolve(-1));
    });
    expect(status).toBe(502);
    expect(sidecar.metrics.requests).toEqual([{ code: 502, reason: 'connect-failed' }]);
    await eventually(() => sidecar?.proxy.breakerState() === 'open', 5_000, 'the circuit open');
  });
});

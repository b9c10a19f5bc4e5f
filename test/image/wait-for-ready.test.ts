/**
 * tools/wait-for-ready.ts, which the image's compile-cache warm-up runs during `docker build`: it
 * must end on its deadline even when the port accepts and never answers, and at once when the
 * process it waits for is gone.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { waitForReady } from '../../tools/wait-for-ready.ts';
import { closedPort } from '../support/faulty-upstream.js';

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listening(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe('waitForReady', () => {
  it('returns once /readyz answers 200, polling through 503s', async () => {
    let probes = 0;
    const port = await listening(createHttpServer((req, res) => {
      probes += 1;
      res.statusCode = req.url === '/readyz' && probes >= 3 ? 200 : 503;
      res.end();
    }));
    await expect(waitForReady(port)).resolves.toBeGreaterThan(0);
    expect(probes).toBe(3);
  });

  it('gives up on its deadline when the port accepts and never answers', async () => {
    const port = await listening(createServer((socket) => { sockets.push(socket); }));
    // Without a per-poll timeout the first poll would wait forever (past this test's 30 s).
    await expect(waitForReady(port, { timeoutMs: 1_500 })).rejects.toThrow(/not ready within 1500 ms/);
  });

  it('stops at once when the process it waits for has exited', async () => {
    const port = await closedPort();
    await expect(waitForReady(port, { timeoutMs: 60_000, stillRunning: () => false })).rejects.toThrow(/exited before it was ready/);
  });
});

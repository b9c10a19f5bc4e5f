import { afterEach, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { runSidecar, type RunningSidecar } from '../../../sidecar/run-sidecar.js';
import { capturingLogger } from '../../support/capturing-logger.js';
import { FaultyUpstream } from '../../support/faulty-upstream.js';

let running: RunningSidecar | undefined;
let upstream: FaultyUpstream | undefined;
afterEach(async () => {
  await running?.shutdown();
  await upstream?.close();
  running = undefined;
  upstream = undefined;
});


async function start(logger = capturingLogger('sidecar').logger) {
  upstream = await new FaultyUpstream().start();
  running = await runSidecar({
    upstream: new URL(upstream.url),
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    drainTimeoutMs: 5000,
    logger,
  });
  return { proxy: `http://127.0.0.1:${running.proxyAddress.port}`, admin: `http://127.0.0.1:${running.adminAddress.port}` };
}

describe('admin endpoints', () => {
  it('serves healthz and readyz, readyz turns 503 while draining, and nothing of it on the proxy port', async () => {
    const { proxy, admin } = await start();
    upstream!.mode = { kind: 'slow', delayMs: 500 };
    expect((await request(`${admin}/healthz`)).statusCode).toBe(200);
    expect((await request(`${admin}/readyz`)).statusCode).toBe(200);
    const onProxy = await request(`${proxy}/metrics`);
    await onProxy.body.dump();
    expect(upstream!.seen.at(-1)?.url).toBe('/metrics'); // forwarded to the app, not answered by the sidecar
    const inFlight = request(proxy);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stopping = running!.shutdown();
    const readyz = await request(`${admin}/readyz`).catch(() => undefined);
    if (readyz !== undefined) expect(readyz.statusCode).toBe(503);
    expect((await inFlight).statusCode).toBe(200);
    expect(await stopping).toBe(true);
    running = undefined;
  });
});

describe('access log', () => {
  it('writes one JSON line per request with status, reason, upstream time and request id', async () => {
    const { lines, logger } = capturingLogger('sidecar');
    const { proxy } = await start(logger);
    await (await request(`${proxy}/orders?id=7`, { headers: { 'x-request-id': 'log-1', authorization: 'Bearer secret' } })).body.dump();
    upstream!.mode = { kind: 'reset' };
    await (await request(`${proxy}/fail`, { headers: { 'x-request-id': 'log-2' } })).body.dump();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const access = lines.filter((line) => line.msg === 'request');
    expect(access).toEqual([
      expect.objectContaining({ level: 'info', method: 'GET', path: '/orders?id=7', status: 200, reason: '', requestId: 'log-1', upstreamMs: expect.any(Number) }),
      expect.objectContaining({ status: 502, reason: 'reset', requestId: 'log-2', path: '/fail' }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret');
  });
});

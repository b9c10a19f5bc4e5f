import { afterEach, describe, expect, it } from '@jest/globals';
import { Agent, request } from 'undici';
import { FaultyUpstream, startRacyKeepAliveApp } from '../support/faulty-upstream.js';
import { startSidecar, type Harness } from '../support/sidecar-harness.js';

let sidecar: Harness | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await sidecar?.close();
  sidecar = undefined;
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('keep-alive race', () => {
  it('an app closing idle connections after 200 ms, hit every 200 ms, gives zero 502s', async () => {
    const app = await startRacyKeepAliveApp(200);
    cleanups.push(app.close);
    sidecar = await startSidecar(app.url, { circuitBreaker: { volumeThreshold: 1000 } });
    const client = new Agent({ keepAliveTimeout: 60_000 });
    cleanups.push(() => client.close());
    const statuses: number[] = [];
    for (let index = 0; index < 30; index += 1) {
      const response = await request(sidecar.url, { dispatcher: client });
      await response.body.text();
      statuses.push(response.statusCode);
      await sleep(200);
    }
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect(app.requests()).toBe(30);
    // Every reuse after an idle period met the race and was recovered; the metric shows it.
    expect(sidecar.metrics.reusedSocketFailures).toBeGreaterThanOrEqual(10);
  }, 30_000);

  it('without retries the race is visible as 502s (the scenario is real)', async () => {
    const app = await startRacyKeepAliveApp(200);
    cleanups.push(app.close);
    sidecar = await startSidecar(app.url, { retry: { attempts: 0 }, circuitBreaker: { volumeThreshold: 1000 } });
    const statuses: number[] = [];
    for (let index = 0; index < 5; index += 1) {
      const response = await request(sidecar.url);
      await response.body.text();
      statuses.push(response.statusCode);
      await sleep(200);
    }
    expect(statuses).toContain(502);
  });

  it("keeps the pool's idle time below an app's Keep-Alive hint", async () => {
    // Node's own server advertises `Keep-Alive: timeout=1` with a 1.5 s keepAliveTimeout.
    const upstream = await new FaultyUpstream({ keepAliveTimeoutMs: 1500 }).start();
    cleanups.push(() => upstream.close());
    sidecar = await startSidecar(upstream.url, { timeouts: { idle: '30s' }, circuitBreaker: { volumeThreshold: 1000 } });
    const first = await request(sidecar.url);
    await first.body.text();
    await sleep(1200);
    const second = await request(sidecar.url);
    await second.body.text();
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    // The hint (1 s) minus the safety margin expired before 1.2 s: a second connection was opened.
    expect(upstream.connections).toBe(2);
  });
});

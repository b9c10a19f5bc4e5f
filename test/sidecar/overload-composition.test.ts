import { describe, expect, it } from '@jest/globals';
import { Agent, request } from 'undici';
import { eventually } from '../support/cli.js';
import { loadedAppFixtures, type LoadedApp } from '../support/loaded-app.js';
import { fetchText, sidecarFixtures } from '../support/sidecar-harness.js';

const fixtures = sidecarFixtures();
const loadedApps = loadedAppFixtures();
/** The default model: capacity 4, 20 ms each, 25 % slower per capacity's worth of excess. */
const app = (hold = false): Promise<LoadedApp> => loadedApps.start(hold);

const until = (check: () => boolean, what: string) => eventually(check, 10_000, what);
const breaker = { circuitBreaker: { volumeThreshold: 4, errorThresholdPercentage: 50, resetTimeout: '10s', rollingWindow: '10s' }, timeouts: { response: '2s' } };

describe('overload and the breaker compose', () => {
  it('an open circuit answers first: the limiter neither counts nor sheds those requests', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'status', status: 503 };
    const sidecar = await fixtures.sidecar(upstream.url, { ...breaker, overload: { mode: 'enforce', limit: 1, queue: { size: 0 } } });
    for (let index = 0; index < 4; index += 1) await fetchText(sidecar.url);
    await until(() => sidecar.proxy.breakerState() === 'open', 'circuit open');
    const answers = await Promise.all(Array.from({ length: 5 }, () => fetchText(sidecar.url)));
    expect(answers.map((answer) => answer.headers['x-badgateway-reason'])).toEqual(Array(5).fill('circuit-open'));
    expect(sidecar.proxy.overloadState()).toMatchObject({ inFlight: 0, shed: { enforce: 0, shadow: 0 } });
  });

  it('sheds never enter the breaker window: neither as failures nor as successes that dilute them', async () => {
    const upstream = await fixtures.upstream();
    let release = (): void => undefined;
    upstream.mode = { kind: 'held', until: new Promise<void>((resolve) => { release = resolve; }) };
    const sidecar = await fixtures.sidecar(upstream.url, { ...breaker, circuitBreaker: { ...breaker.circuitBreaker, resetTimeout: '60s' }, timeouts: { response: '60s' }, overload: { mode: 'enforce', limit: 1, queue: { size: 0 } } });
    // One held request keeps the only slot while ten are shed. Counted as failures, they would
    // trip the breaker now; counted as successes, they would keep the four failures below from
    // reaching 50 % of the window (4 of 15).
    const held = fetchText(sidecar.url);
    await until(() => upstream.seen.length === 1, 'one request at the app');
    for (let index = 0; index < 10; index += 1) expect((await fetchText(sidecar.url)).status).toBe(503);
    expect(sidecar.proxy.breakerState()).toBe('closed');
    release();
    expect((await held).status).toBe(200);
    upstream.mode = { kind: 'status', status: 503 };
    for (let index = 0; index < 4; index += 1) await fetchText(sidecar.url);
    await until(() => sidecar.proxy.breakerState() === 'open', 'circuit open on 4 failures of 5');
  });
});

describe('overload: hot reload', () => {
  it('changes the limit and queue without dropping a request in flight or in the queue', async () => {
    const held = await app(true);
    const sidecar = await fixtures.sidecar(held.url, { overload: { mode: 'enforce', limit: 2, queue: { size: 5, timeout: '10s' } } });
    const all = Array.from({ length: 4 }, (_, index) => fetchText(`${sidecar.url}/r${index}`));
    await until(() => held.heldCount === 2 && sidecar.proxy.overloadState().queued === 2, 'two at the app, two queued');
    sidecar.setConfig({ overload: { mode: 'enforce', limit: 4, queue: { size: 1, timeout: '5s' } } });
    await until(() => held.heldCount === 4, 'the queued two forwarded under the new limit');
    expect(sidecar.proxy.overloadState()).toMatchObject({ mode: 'enforce', limit: 4, inFlight: 4, queued: 0 });
    sidecar.setConfig({ overload: { mode: 'off' } });
    held.release();
    expect((await Promise.all(all)).map((response) => response.status)).toEqual([200, 200, 200, 200]);
    expect(sidecar.metrics.sheds).toEqual([]);
  });
});

describe('overload: adaptive limit against an app that slows with concurrency', () => {
  async function drive(url: string, clients: number, ms: number): Promise<Map<string, number>> {
    const agent = new Agent({ connections: clients });
    const outcomes = new Map<string, number>();
    const deadline = Date.now() + ms;
    await Promise.all(Array.from({ length: clients }, async () => {
      while (Date.now() < deadline) {
        const response = await request(url, { dispatcher: agent });
        await response.body.dump();
        const key = `${response.statusCode} ${String(response.headers['x-badgateway-reason'] ?? '')}`.trim();
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        if (response.statusCode === 503) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }));
    await agent.close();
    return outcomes;
  }

  it('keeps the app near its capacity where no limit lets every client in', async () => {
    const limited = await app();
    const sidecar = await fixtures.sidecar(limited.url, { overload: { mode: 'enforce', limit: 'adaptive', queue: { size: 0 } } });
    const outcomes = await drive(sidecar.url, 40, 2_000);
    expect([...outcomes.keys()].sort()).toEqual(['200', '503 overloaded']);
    expect(limited.maxInFlight).toBeLessThanOrEqual(20);
    expect(sidecar.proxy.overloadState().adaptive).toMatchObject({ phase: 'steady', minRttMs: expect.any(Number) });

    // The same 40 clients without a limit all reach the app at once.
    const unlimited = await app(true);
    const open = await fixtures.sidecar(unlimited.url);
    const all = Array.from({ length: 40 }, () => fetchText(open.url));
    await until(() => unlimited.heldCount === 40, 'all forty at the app');
    unlimited.release();
    await Promise.all(all);
  });
});

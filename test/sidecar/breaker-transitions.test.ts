import { describe, expect, it } from '@jest/globals';
import { eventually } from '../support/cli.js';
import { fetchText, sidecarFixtures } from '../support/sidecar-harness.js';

const fixtures = sidecarFixtures();

const status = fetchText;

const until = (check: () => boolean) => eventually(check, 10_000, 'breaker state');

const breaker = { circuitBreaker: { volumeThreshold: 4, errorThresholdPercentage: 50, resetTimeout: '600ms', rollingWindow: '10s' }, timeouts: { response: '500ms' } };

describe('breaker: closed → open', () => {
  it('does not trip below volumeThreshold, then opens and answers without touching the app', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'status', status: 503 };
    const sidecar = await fixtures.sidecar(upstream.url, breaker);
    for (let index = 0; index < 3; index += 1) expect((await status(sidecar.url)).status).toBe(503);
    expect(sidecar.proxy.breakerState()).toBe('closed');
    expect((await status(sidecar.url)).status).toBe(503);
    await until(() => sidecar.proxy.breakerState() === 'open');
    const seen = upstream.seen.length;
    const open = await status(sidecar.url, { accept: 'text/plain' });
    expect(open.status).toBe(502);
    expect(open.headers['x-badgateway-reason']).toBe('circuit-open');
    expect(open.headers['proxy-status']).toBe('badgateway; error=destination_unavailable');
    expect(Number(open.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(upstream.seen.length).toBe(seen);
    expect(sidecar.metrics.transitions).toEqual(['open']);
  });

  it('uses openStatus and a fixed retryAfter when the policy sets them', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'status', status: 503 };
    const sidecar = await fixtures.sidecar(upstream.url, { ...breaker, openStatus: 503, retryAfter: '7s' });
    for (let index = 0; index < 4; index += 1) await status(sidecar.url);
    await until(() => sidecar.proxy.breakerState() === 'open');
    const open = await status(sidecar.url);
    expect(open.status).toBe(503);
    expect(open.headers['retry-after']).toBe('7');
  });
});

describe('breaker: open → half-open → closed', () => {
  it('lets exactly one trial through in half-open and closes when it succeeds', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'status', status: 502 };
    const sidecar = await fixtures.sidecar(upstream.url, breaker);
    for (let index = 0; index < 4; index += 1) await status(sidecar.url);
    await until(() => sidecar.proxy.breakerState() === 'open');
    upstream.mode = { kind: 'slow', delayMs: 300 };
    await until(() => sidecar.proxy.breakerState() === 'half-open');
    const seen = upstream.seen.length;
    const trial = status(sidecar.url);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const others = await Promise.all([status(sidecar.url), status(sidecar.url)]);
    expect(others.map((response) => response.headers['x-badgateway-reason'])).toEqual(['circuit-open', 'circuit-open']);
    expect((await trial).status).toBe(200);
    expect(upstream.seen.length).toBe(seen + 1);
    expect(sidecar.proxy.breakerState()).toBe('closed');
    expect((await status(sidecar.url)).status).toBe(200);
    expect(sidecar.metrics.transitions).toEqual(['open', 'half-open', 'closed']);
  });

  it('re-opens when the trial fails', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'status', status: 504 };
    const sidecar = await fixtures.sidecar(upstream.url, breaker);
    for (let index = 0; index < 4; index += 1) await status(sidecar.url);
    await until(() => sidecar.proxy.breakerState() === 'half-open');
    expect((await status(sidecar.url)).status).toBe(504);
    await until(() => sidecar.proxy.breakerState() === 'open');
    expect(sidecar.metrics.transitions).toEqual(['open', 'half-open', 'open']);
  });

  it('a hung half-open trial still ends at the response timeout, so the breaker never sticks', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'status', status: 503 };
    const sidecar = await fixtures.sidecar(upstream.url, breaker);
    for (let index = 0; index < 4; index += 1) await status(sidecar.url);
    await until(() => sidecar.proxy.breakerState() === 'half-open');
    upstream.mode = { kind: 'hang' };
    const trial = await status(sidecar.url);
    expect(trial.headers['x-badgateway-reason']).toBe('timeout');
    await until(() => sidecar.proxy.breakerState() === 'open');
    upstream.mode = { kind: 'ok' };
    await until(() => sidecar.proxy.breakerState() === 'half-open');
    expect((await status(sidecar.url)).status).toBe(200);
    expect(sidecar.proxy.breakerState()).toBe('closed');
  });
});

describe('shadow mode', () => {
  it('records would-be trips but keeps forwarding', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'status', status: 503 };
    const sidecar = await fixtures.sidecar(upstream.url, { ...breaker, circuitBreaker: { ...breaker.circuitBreaker, mode: 'shadow' } });
    for (let index = 0; index < 4; index += 1) await status(sidecar.url);
    await until(() => sidecar.metrics.shadowTrips === 1);
    const seen = upstream.seen.length;
    for (let index = 0; index < 3; index += 1) expect((await status(sidecar.url)).status).toBe(503);
    expect(upstream.seen.length).toBe(seen + 3);
  });
});

describe('reload', () => {
  it('keeps the breaker state when its settings did not change, resets it when they did', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'status', status: 503 };
    const sidecar = await fixtures.sidecar(upstream.url, breaker);
    for (let index = 0; index < 4; index += 1) await status(sidecar.url);
    await until(() => sidecar.proxy.breakerState() === 'open');
    sidecar.setConfig({ ...breaker, errorPages: [{ status: 502, body: 'new page' }] });
    expect(sidecar.proxy.breakerState()).toBe('open');
    expect((await status(sidecar.url)).body).toBe('new page');
    sidecar.setConfig({ ...breaker, circuitBreaker: { ...breaker.circuitBreaker, volumeThreshold: 50 } });
    expect(sidecar.proxy.breakerState()).toBe('closed');
  });
});

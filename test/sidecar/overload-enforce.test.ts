import { describe, expect, it } from '@jest/globals';
import { eventually } from '../support/cli.js';
import { loadedAppFixtures, type LoadedApp } from '../support/loaded-app.js';
import { fetchText, sidecarFixtures } from '../support/sidecar-harness.js';

const fixtures = sidecarFixtures();
const loadedApps = loadedAppFixtures();
const heldApp = (): Promise<LoadedApp> => loadedApps.start(true);

const enforce = (limit: number, queue: { size: number; timeout?: string } = { size: 0 }) => ({ overload: { mode: 'enforce', limit, queue } });
const until = (check: () => boolean, what: string) => eventually(check, 10_000, what);

describe('overload: enforce sheds with a fast 503 and leaves the app alone', () => {
  it('answers beyond the limit with 503 overloaded, Proxy-Status, Retry-After and a problem+json body', async () => {
    const app = await heldApp();
    const sidecar = await fixtures.sidecar(app.url, enforce(2));
    const held = [fetchText(sidecar.url), fetchText(sidecar.url)];
    await until(() => app.heldCount === 2, 'two requests at the app');
    const shed = await fetchText(`${sidecar.url}/orders`, { accept: 'application/json', 'x-request-id': 'shed-1' });
    expect(shed.status).toBe(503);
    expect(shed.headers['x-badgateway-reason']).toBe('overloaded');
    expect(shed.headers['proxy-status']).toBe('badgateway; error=connection_limit_reached');
    expect(shed.headers['retry-after']).toBe('1');
    expect(shed.headers['x-request-id']).toBe('shed-1');
    expect(shed.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(shed.body)).toMatchObject({ status: 503, title: 'Service Unavailable', reason: 'overloaded', requestId: 'shed-1' });
    expect(app.seen).toHaveLength(2);
    app.release();
    expect((await Promise.all(held)).map((response) => response.status)).toEqual([200, 200]);
    expect(sidecar.metrics.requests).toContainEqual({ code: 503, reason: 'overloaded' });
    expect(sidecar.metrics.sheds).toEqual(['enforce']);
  });

  it("serves the policy's 503 page by Accept and its fixed retryAfter", async () => {
    const app = await heldApp();
    const sidecar = await fixtures.sidecar(app.url, {
      ...enforce(1),
      retryAfter: '9s',
      errorPages: [{ status: 503, contentType: 'text/html', body: '<h1>Busy</h1><p>{{reason}} {{requestId}}</p>' }],
    });
    const held = fetchText(sidecar.url);
    await until(() => app.heldCount === 1, 'one request at the app');
    const page = await fetchText(sidecar.url, { accept: 'text/html', 'x-request-id': '<x>' });
    expect(page.status).toBe(503);
    expect(page.body).toBe('<h1>Busy</h1><p>overloaded &lt;x&gt;</p>');
    expect(page.headers['retry-after']).toBe('9');
    app.release();
    await held;
  });

  it('lets priority paths (health checks) through while full', async () => {
    const app = await heldApp();
    const sidecar = await fixtures.sidecar(app.url, enforce(1));
    const held = fetchText(sidecar.url);
    await until(() => app.heldCount === 1, 'one request at the app');
    expect((await fetchText(`${sidecar.url}/healthz`)).status).toBe(200);
    expect((await fetchText(`${sidecar.url}/other`)).status).toBe(503);
    app.release();
    await held;
  });
});

describe('overload: the queue', () => {
  it('holds a request while the app is full and forwards it when a slot frees', async () => {
    const app = await heldApp();
    const sidecar = await fixtures.sidecar(app.url, enforce(1, { size: 1, timeout: '10s' }));
    const first = fetchText(`${sidecar.url}/first`);
    await until(() => app.heldCount === 1, 'the first request at the app');
    const second = fetchText(`${sidecar.url}/second`);
    await until(() => sidecar.proxy.overloadState().queued === 1, 'the second request queued');
    expect(app.seen).toEqual(['/first']);
    app.release();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect(app.seen).toEqual(['/first', '/second']);
    expect(sidecar.metrics.queueWaits).toHaveLength(1);
    expect(sidecar.metrics.sheds).toEqual([]);
  });

  it('sheds a queued request whose wait runs out, without the app ever seeing it', async () => {
    const app = await heldApp();
    const sidecar = await fixtures.sidecar(app.url, enforce(1, { size: 1, timeout: '100ms' }));
    const held = fetchText(sidecar.url);
    await until(() => app.heldCount === 1, 'one request at the app');
    const started = performance.now();
    const waited = await fetchText(`${sidecar.url}/waited`);
    expect(waited.status).toBe(503);
    expect(waited.headers['x-badgateway-reason']).toBe('overloaded');
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect(app.seen).not.toContain('/waited');
    expect(sidecar.metrics.queueWaits[0]).toBeGreaterThanOrEqual(0.095);
    expect(sidecar.metrics.shedCauses).toEqual(['queue-timeout']);
    app.release();
    await held;
    expect(sidecar.proxy.overloadState()).toMatchObject({ inFlight: 0, queued: 0 });
  });
});

describe('overload: shadow and off', () => {
  it('shadow forwards everything and counts what enforce would have shed', async () => {
    const app = await heldApp();
    const sidecar = await fixtures.sidecar(app.url, { overload: { mode: 'shadow', limit: 1, queue: { size: 0 } } });
    const all = [fetchText(sidecar.url), fetchText(sidecar.url), fetchText(sidecar.url)];
    await until(() => app.heldCount === 3, 'three requests at the app');
    app.release();
    expect((await Promise.all(all)).map((response) => response.status)).toEqual([200, 200, 200]);
    expect(sidecar.metrics.sheds).toEqual(['shadow', 'shadow']);
    expect(sidecar.proxy.overloadState().shed).toEqual({ enforce: 0, shadow: 2 });
  });

  it('off (the default) limits nothing', async () => {
    const app = await heldApp();
    // Twenty connects at once: on a loaded machine a lost SYN costs 1 s, the default connect
    // timeout, and a 502 here would read as a limit. The overload settings stay the default.
    const sidecar = await fixtures.sidecar(app.url, { timeouts: { connect: '5s' } });
    const all = Array.from({ length: 20 }, () => fetchText(sidecar.url));
    await until(() => app.heldCount === 20, 'twenty requests at the app');
    app.release();
    expect(new Set((await Promise.all(all)).map((response) => response.status))).toEqual(new Set([200]));
    expect(sidecar.proxy.overloadState()).toMatchObject({ mode: 'off', limit: 0, inFlight: 0 });
  });
});

/**
 * The overload queue on real sockets: adaptive LIFO once the queue stands, waits cut to the
 * controlled delay's target (the newest waiter excepted), a queued request that meets a just-opened circuit counted as a shed,
 * and requests admitted while the limiter was off counted once it enforces.
 */
import { describe, expect, it } from '@jest/globals';
import { eventually } from '../support/cli.js';
import { loadedAppFixtures, type LoadedApp } from '../support/loaded-app.js';
import { fetchText, sidecarFixtures } from '../support/sidecar-harness.js';

const fixtures = sidecarFixtures();
const loadedApps = loadedAppFixtures();
const heldApp = (): Promise<LoadedApp> => loadedApps.start(true);
const until = (check: () => boolean, what: string) => eventually(check, 10_000, what);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('overload: a standing queue', () => {
  it('serves the newest waiter first once arrivals have found the app full for an interval', async () => {
    const app = await heldApp();
    // target = timeout: nobody is shed here, only the order is looked at.
    const sidecar = await fixtures.sidecar(app.url, { overload: { mode: 'enforce', limit: 1, queue: { size: 10, timeout: '10s', target: '10s', interval: '50ms' } } });
    const answers = [fetchText(`${sidecar.url}/a`)];
    await until(() => app.heldCount === 1, '/a at the app');
    for (const path of ['/b', '/c']) {
      answers.push(fetchText(`${sidecar.url}${path}`));
      await until(() => sidecar.proxy.overloadState().queued === answers.length - 1, `${path} queued`);
    }
    await sleep(80);
    answers.push(fetchText(`${sidecar.url}/d`));
    await until(() => sidecar.proxy.overloadState().queued === 3, '/d queued');
    expect(sidecar.proxy.overloadState().queue).toMatchObject({ standing: true, lifoSwitches: 1 });
    app.release();
    expect((await Promise.all(answers)).map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    expect(app.seen).toEqual(['/a', '/d', '/c', '/b']);
  });

  it('then sheds a waiter older than the target at once, and keeps the newest for a slot', async () => {
    const app = await heldApp();
    const sidecar = await fixtures.sidecar(app.url, { overload: { mode: 'enforce', limit: 1, queue: { size: 10, timeout: '10s', target: '5ms', interval: '50ms' } } });
    const first = fetchText(`${sidecar.url}/first`);
    await until(() => app.heldCount === 1, '/first at the app');
    const started = performance.now();
    const older = fetchText(`${sidecar.url}/older`);
    await until(() => sidecar.proxy.overloadState().queued === 1, '/older queued');
    // Alone, it may wait the long timeout (a slot may free any moment); the queue stands meanwhile.
    await sleep(120);
    expect(sidecar.proxy.overloadState()).toMatchObject({ queued: 1, queue: { standing: true } });
    const newer = fetchText(`${sidecar.url}/newer`);
    const shed = await older;
    expect(shed.status).toBe(503);
    expect(shed.headers['x-badgateway-reason']).toBe('overloaded');
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(sidecar.metrics.shedCauses).toEqual(['queue-timeout']);
    app.release();
    expect([(await first).status, (await newer).status]).toEqual([200, 200]);
    expect(app.seen).toEqual(['/first', '/newer']);
  });
});

describe('overload: left-over edges', () => {
  it('a queued request granted into a just-opened circuit gets the open circuit\'s answer and counts as a shed', async () => {
    const app = await heldApp();
    const sidecar = await fixtures.sidecar(app.url, {
      circuitBreaker: { volumeThreshold: 1, errorThresholdPercentage: 50, resetTimeout: '10s' }, timeouts: { response: '2s' },
      overload: { mode: 'enforce', limit: 1, queue: { size: 1, timeout: '10s', target: '10s' } },
    });
    const first = fetchText(`${sidecar.url}/first`);
    await until(() => app.heldCount === 1, 'the first request at the app');
    const queued = fetchText(`${sidecar.url}/queued`);
    await until(() => sidecar.proxy.overloadState().queued === 1, 'the second request queued');
    app.release(503); // one failure of one: the circuit opens as the slot frees
    expect((await first).status).toBe(503);
    const answer = await queued;
    expect(sidecar.proxy.breakerState()).toBe('open');
    expect(answer.status).toBe(502);
    expect(answer.headers['x-badgateway-reason']).toBe('circuit-open');
    expect(sidecar.metrics.shedCauses).toEqual(['circuit-open']);
    expect(sidecar.proxy.overloadState().shed).toEqual({ enforce: 1, shadow: 0 });
    expect(sidecar.metrics.requests.map((entry) => entry.reason)).toEqual(['', 'circuit-open']);
    expect(app.seen).toEqual(['/first']);
    expect(sidecar.proxy.overloadState()).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('counts the requests admitted while off once a reload switches to enforce', async () => {
    const app = await heldApp();
    const sidecar = await fixtures.sidecar(app.url, {});
    const admittedWhileOff = [fetchText(sidecar.url), fetchText(sidecar.url)];
    await until(() => app.heldCount === 2, 'two requests at the app');
    sidecar.setConfig({ overload: { mode: 'enforce', limit: 2, queue: { size: 0 } } });
    expect(sidecar.proxy.overloadState()).toMatchObject({ mode: 'enforce', inFlight: 2 });
    const beyond = await fetchText(sidecar.url);
    expect(beyond.status).toBe(503);
    expect(app.heldCount).toBe(2);
    app.release();
    expect((await Promise.all(admittedWhileOff)).map((answer) => answer.status)).toEqual([200, 200]);
    await until(() => sidecar.proxy.overloadState().inFlight === 0, 'both released');
  });
});

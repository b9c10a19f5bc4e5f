import { describe, expect, it } from '@jest/globals';
import { DEFAULT_GRADIENT_SETTINGS, GradientController, type GradientSettings } from '../../../sidecar/overload/gradient.js';

const settings: GradientSettings = { ...DEFAULT_GRADIENT_SETTINGS, minRttSamples: 5, minRttIntervalMs: 10_000, updateIntervalMs: 100 };
/** No jitter: the re-measurement happens exactly minRttIntervalMs after the last one. */
const noJitter = () => 0.5;

/** A controller whose minRTT (10 ms) is measured; the clock is at `now` afterwards. */
function measured(overrides: Partial<GradientSettings> = {}) {
  const controller = new GradientController({ ...settings, ...overrides }, 0, noJitter);
  let now = 0;
  for (let index = 0; index < 5; index += 1) {
    controller.sample(now, now + 10, 1);
    now += 10;
  }
  return { controller, now };
}

/** One update interval of samples, each with the given RTT and in-flight count. */
function interval(controller: GradientController, start: number, rttMs: number, inFlight: number): number {
  let now = start;
  for (let index = 0; index < 10; index += 1) {
    now += 10;
    controller.sample(now - rttMs, now, inFlight);
  }
  return now;
}

describe('gradient controller: minRTT measurement', () => {
  it('pins the limit to minLimit until enough samples give minRTT, then restores the limit', () => {
    const controller = new GradientController(settings, 0, noJitter);
    expect(controller.snapshot()).toEqual({ limit: 3, phase: 'measuring-min-rtt', minRttMs: undefined, sampleRttMs: undefined });
    for (const rtt of [12, 8, 10, 30, 9]) controller.sample(0, rtt, 1);
    expect(controller.snapshot()).toMatchObject({ limit: settings.initialLimit, phase: 'steady', minRttMs: 10 });
  });

  it('ignores requests sent before the measurement began or into more than minLimit in flight', () => {
    const controller = new GradientController(settings, 1000, noJitter);
    for (let index = 0; index < 10; index += 1) controller.sample(999, 1100, 1);
    for (let index = 0; index < 10; index += 1) controller.sample(1000, 1100, settings.minLimit + 1);
    expect(controller.snapshot().phase).toBe('measuring-min-rtt');
  });

  it('measures again after minRttInterval, pinned to minLimit, and comes back to the limit it had', () => {
    const { controller, now: measuredAt } = measured();
    let now = measuredAt;
    for (let round = 0; round < 5; round += 1) now = interval(controller, now, 10, 20);
    const grown = controller.limit();
    expect(grown).toBeGreaterThan(settings.initialLimit);
    now = measuredAt + settings.minRttIntervalMs;
    controller.sample(now - 10, now, 20);
    expect(controller.snapshot()).toMatchObject({ phase: 'measuring-min-rtt', limit: settings.minLimit });
    for (let index = 0; index < 5; index += 1) controller.sample(now + index, now + index + 20, 3);
    expect(controller.snapshot()).toMatchObject({ phase: 'steady', minRttMs: 20, limit: grown });
  });
});

describe('gradient controller: the limit follows minRTT / sampled RTT', () => {
  it('grows while the app answers at its unloaded latency and the traffic uses the limit', () => {
    const { controller, now } = measured();
    interval(controller, now, 10, 10);
    expect(controller.limit()).toBeGreaterThan(settings.initialLimit);
  });

  it('does not grow a limit the traffic never came near (app-limited)', () => {
    const { controller, now } = measured();
    let at = now;
    for (let round = 0; round < 20; round += 1) at = interval(controller, at, 10, 2);
    expect(controller.limit()).toBe(settings.initialLimit);
  });

  it('shrinks while latency is above minRTT × (1 + buffer), never below minLimit', () => {
    const { controller, now } = measured({ initialLimit: 100 });
    let at = interval(controller, now, 40, 100);
    expect(controller.limit()).toBeLessThan(100);
    for (let round = 0; round < 200; round += 1) at = interval(controller, at, 40, 100);
    expect(controller.limit()).toBe(settings.minLimit);
  });

  it('never exceeds maxLimit', () => {
    const { controller, now } = measured({ maxLimit: 15 });
    let at = now;
    for (let round = 0; round < 50; round += 1) at = interval(controller, at, 5, 1000);
    expect(controller.limit()).toBe(15);
  });

  it('changes only once per update interval', () => {
    const { controller, now } = measured();
    controller.sample(now, now + 50, 10);
    controller.sample(now, now + 50, 10);
    expect(controller.snapshot().sampleRttMs).toBeUndefined();
    expect(controller.limit()).toBe(settings.initialLimit);
  });

  it('settles just above the capacity of an app whose latency grows with concurrency, across re-measurements', () => {
    // 8 requests in parallel at 10 ms each; beyond that, latency grows with the excess.
    const capacity = 8;
    const latency = (inFlight: number) => 10 * Math.max(1, inFlight / capacity);
    const { controller, now } = measured({ initialLimit: 50 });
    let at = now;
    const limits: number[] = [];
    for (let round = 0; round < 300; round += 1) {
      const inFlight = controller.limit(); // saturated: every slot is used
      at = interval(controller, at, latency(inFlight), inFlight);
      limits.push(controller.limit());
    }
    const settled = limits.slice(-50).filter((limit) => limit !== settings.minLimit); // not while re-measuring
    expect(Math.min(...settled)).toBeGreaterThanOrEqual(capacity);
    expect(Math.max(...settled)).toBeLessThanOrEqual(2 * capacity);
  });
});

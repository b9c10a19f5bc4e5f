/**
 * The whole limiter — adaptive limit, controlled-delay queue, adaptive LIFO — against the bench's
 * app model in simulated time: open-loop arrivals at 2× and 4× the app's capacity, each admitted
 * request's latency taken from the model at its start. The clock is injected and nothing waits for
 * real time, so this shows the queue discipline itself, free of a busy machine's noise.
 */
import { describe, expect, it } from '@jest/globals';
import { latencyAt } from '../../../sidecar/demo/load-latency.js';
import { DEFAULT_GRADIENT_SETTINGS } from '../../../sidecar/overload/gradient.js';
import { ConcurrencyLimiter, type LimiterSettings, type Permit, type Waiter } from '../../../sidecar/overload/limiter.js';
import { NO_SCHEDULING_DELAY } from '../../../sidecar/overload/scheduling-delay.js';

const model = { capacity: 8, serviceMs: 50, degradation: 0.25 };
const capacityPerSecond = (model.capacity * 1000) / model.serviceMs;
const SIMULATED_MS = 20_000;
const MEASURED_FROM_MS = 3_000;

/** The policy defaults: queue 100, timeout 250ms, target 5ms, interval 100ms, adaptive LIFO. */
const defaults: LimiterSettings = {
  mode: 'enforce', limit: 'adaptive', queueSize: 100, queueTimeoutMs: 250, queueTargetMs: 5, queueIntervalMs: 100, queueOrder: 'adaptive-lifo',
  priorityPaths: [], gradient: DEFAULT_GRADIENT_SETTINGS,
};
/** The queue before controlled delay: oldest first, up to the long timeout. */
const plainFifo: LimiterSettings = { ...defaults, queueTargetMs: 250, queueOrder: 'fifo' };

interface Running { doneAt: number; permit: Permit; arrivedAt: number }

function simulate(settings: LimiterSettings, factor: number) {
  let now = 0;
  const limiter = new ConcurrencyLimiter(settings, { shed: () => undefined, queueWait: () => undefined }, { clock: () => now, schedulingDelay: NO_SCHEDULING_DELAY });
  let appInFlight = 0;
  let running: Running[] = [];
  const latencies: number[] = [];
  let shed = 0;
  const start = (permit: Permit, arrivedAt: number) => {
    appInFlight += 1;
    permit.sending();
    running.push({ doneAt: now + latencyAt(model, appInFlight), permit, arrivedAt });
  };
  const arrivalMs = 1000 / (capacityPerSecond * factor);
  for (let arrival = 0; arrival < SIMULATED_MS; arrival += arrivalMs) {
    for (let next = earliest(running); next !== undefined && next.doneAt <= arrival; next = earliest(running)) {
      running = running.filter((request) => request !== next);
      now = next.doneAt;
      appInFlight -= 1;
      if (next.arrivedAt >= MEASURED_FROM_MS) latencies.push(now - next.arrivedAt);
      next.permit.responded();
      next.permit.release();
    }
    now = arrival;
    const arrivedAt = now;
    const admission = limiter.acquire('/');
    if (admission === 'shed') shed += 1;
    else if (admission === 'wait') {
      const waiter: Waiter = { granted: (permit) => start(permit, arrivedAt), shed: () => { shed += 1; } };
      limiter.enqueue(waiter);
    } else start(admission, arrivedAt);
  }
  const state = limiter.state();
  limiter.close();
  latencies.sort((a, b) => a - b);
  const goodput = latencies.length / ((SIMULATED_MS - MEASURED_FROM_MS) / 1000);
  return { goodputShare: goodput / capacityPerSecond, p99: latencies[Math.floor(0.99 * latencies.length)] as number, shed, state };
}

function earliest(running: Running[]): Running | undefined {
  let first: Running | undefined;
  for (const request of running) if (first === undefined || request.doneAt < first.doneAt) first = request;
  return first;
}

describe('controlled-delay queue with adaptive LIFO, in simulated overload', () => {
  it.each([2, 4])('at %i× capacity keeps goodput ≥ 90 %% and the p99 of the served within 2× the unloaded latency', (factor) => {
    const result = simulate(defaults, factor);
    expect(result.goodputShare).toBeGreaterThanOrEqual(0.9);
    expect(result.p99).toBeLessThanOrEqual(2 * model.serviceMs);
    expect(result.state.queue.lifoSwitches).toBeGreaterThanOrEqual(1);
    expect(result.state.shedByCause['queue-timeout']).toBeGreaterThan(0);
  });

  it('below capacity sheds next to nothing (the queue never stands for long)', () => {
    const result = simulate(defaults, 0.8);
    expect(result.goodputShare).toBeGreaterThanOrEqual(0.79);
    expect(result.p99).toBe(model.serviceMs);
  });

  it('where a plain FIFO queue with the same long timeout serves its requests late (the comparison)', () => {
    const result = simulate(plainFifo, 2);
    expect(result.p99).toBeGreaterThan(3 * model.serviceMs);
  });
});

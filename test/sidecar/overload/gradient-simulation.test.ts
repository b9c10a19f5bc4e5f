/**
 * The gradient controller against the bench's app model in simulated time: open-loop arrivals at
 * 1×, 2× and 4× the app's capacity, admission at the controller's limit (queue 0), each admitted
 * request's latency taken from the model at its arrival. Deterministic: no clock, no sockets, so
 * it shows what the algorithm does where the real bench on a busy machine cannot.
 */
import { describe, expect, it } from '@jest/globals';
import { latencyAt } from '../../../sidecar/demo/load-latency.js';
import { DEFAULT_GRADIENT_SETTINGS, GradientController } from '../../../sidecar/overload/gradient.js';

const model = { capacity: 8, serviceMs: 50, degradation: 0.25 };
const capacityPerSecond = (model.capacity * 1000) / model.serviceMs;
const SIMULATED_MS = 30_000;
/** Measured after the limit had time to settle. */
const MEASURED_FROM_MS = 5_000;

function simulate(factor: number) {
  const controller = new GradientController(DEFAULT_GRADIENT_SETTINGS, 0, () => 0.5);
  const intervalMs = 1000 / (capacityPerSecond * factor);
  let inFlight = 0;
  let pending: { at: number; startedAt: number; inFlight: number }[] = [];
  const latencies: number[] = [];
  let shed = 0;
  for (let now = 0; now < SIMULATED_MS; now += intervalMs) {
    const finished = pending.filter((request) => request.at <= now).sort((a, b) => a.at - b.at);
    pending = pending.filter((request) => request.at > now);
    for (const request of finished) {
      inFlight -= 1;
      controller.sample(request.startedAt, request.at, request.inFlight);
      if (request.startedAt >= MEASURED_FROM_MS) latencies.push(request.at - request.startedAt);
    }
    if (inFlight < controller.limit()) {
      inFlight += 1;
      pending.push({ at: now + latencyAt(model, inFlight), startedAt: now, inFlight });
    } else if (now >= MEASURED_FROM_MS) {
      shed += 1;
    }
  }
  latencies.sort((a, b) => a - b);
  const goodput = latencies.length / ((SIMULATED_MS - MEASURED_FROM_MS) / 1000);
  return { goodputShare: goodput / capacityPerSecond, p99: latencies[Math.floor(0.99 * latencies.length)] as number, shed, limit: controller.limit() };
}

describe('gradient controller in simulated overload (the bench model, no machine noise)', () => {
  it.each([1, 2, 4])('at %i× capacity keeps goodput near capacity and p99 within 3× the unloaded latency', (factor) => {
    const result = simulate(factor);
    expect(result.goodputShare).toBeGreaterThanOrEqual(0.85);
    expect(result.p99).toBeLessThanOrEqual(3 * model.serviceMs);
    if (factor > 1) expect(result.limit).toBeGreaterThanOrEqual(model.capacity);
  });

  it('without a limit the same app collapses at 2× (the comparison the limiter is for)', () => {
    // Every arrival admitted: in flight grows until latency makes throughput fall below arrivals.
    const intervalMs = 1000 / (capacityPerSecond * 2);
    let pending: number[] = [];
    let served = 0;
    for (let now = 0; now < 10_000; now += intervalMs) {
      const before = pending.length;
      pending = pending.filter((at) => at > now);
      served += before - pending.length;
      pending.push(now + latencyAt(model, pending.length + 1));
    }
    expect(served / 10).toBeLessThan(0.5 * capacityPerSecond);
  });
});

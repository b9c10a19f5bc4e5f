/**
 * How a typical app slows down with concurrent work: up to its capacity every request takes the
 * service time; beyond it the work is shared (latency grows with in-flight / capacity) and the
 * sharing itself costs (contention, GC, cache misses), so throughput falls as overload grows.
 * Used by the demo's overload mode, the tests' loaded app and the bench.
 */

export interface LoadModel {
  /** Requests the app serves in parallel at full speed. */
  readonly capacity: number;
  /** Latency of one request at or below capacity, ms. */
  readonly serviceMs: number;
  /** Extra cost per request of overload: 0.25 = 25 % slower per capacity's worth of excess. */
  readonly degradation: number;
}

export const DEFAULT_LOAD_MODEL: LoadModel = Object.freeze({ capacity: 8, serviceMs: 20, degradation: 0.25 });

/** Latency (ms) of a request that arrives while `inFlight` requests (itself included) are being served. */
export function latencyAt(model: LoadModel, inFlight: number): number {
  if (inFlight <= model.capacity) return model.serviceMs;
  const excess = (inFlight - model.capacity) / model.capacity;
  return model.serviceMs * (inFlight / model.capacity) * (1 + model.degradation * excess);
}

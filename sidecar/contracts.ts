/**
 * The seams between the sidecar's data path (proxy, breaker, error pages) and its runtime
 * (metrics registry, admin server, config watch, logging, drain). Both sides import only these.
 */
import type { SidecarConfig } from '../api/schema.js';

export type Reason = 'connect-failed' | 'timeout' | 'reset' | 'invalid-response' | 'circuit-open';

/** Breaker states as exported by badgateway_circuit_state. */
export type CircuitState = 'closed' | 'half-open' | 'open';

/** What the data path reports; implemented with prom-client by sidecar/metrics.ts. */
export interface SidecarMetrics {
  /** One per finished client request; reason is '' for responses the app itself sent. */
  request(code: number, reason: Reason | ''): void;
  /** Time from sending the request upstream to its response head (or failure). */
  upstreamDuration(seconds: number): void;
  circuitState(state: CircuitState): void;
  circuitTransition(to: CircuitState): void;
  shadowTrip(): void;
  reusedSocketFailure(): void;
  configReload(result: 'success' | 'error'): void;
}

/** Minimal structured logger (pino-compatible subset), so the data path does not depend on pino. */
export interface Logger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

/** Where the data path reads the current configuration; swapped atomically on hot reload. */
export interface ConfigSource {
  current(): Readonly<SidecarConfig>;
}

/**
 * The seams between the sidecar's data path (proxy, breaker, error pages) and its runtime
 * (metrics registry, admin server, config watch, drain). Both sides import only these.
 */
import type { AddressInfo } from 'node:net';
import type { SidecarConfig } from '../api/schema.js';
import type { Logger } from '../api/logger.js';
import type { LimiterState } from './overload/limiter.js';

export type { Logger, LimiterState };

export type Reason = 'connect-failed' | 'timeout' | 'reset' | 'invalid-response' | 'circuit-open' | 'overloaded';

/** The overload limiter's gauges, read when metrics are scraped. */
export interface OverloadGauges {
  readonly limit: number;
  readonly inFlight: number;
  readonly queued: number;
}

/** Breaker states as exported by badgateway_circuit_state (0 closed, 1 half-open, 2 open). */
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
  /** A request shed by the limiter (enforce), or one it would have shed (shadow). */
  overloadShed(mode: 'enforce' | 'shadow'): void;
  /** Time a request waited in the limiter's queue, granted or shed. */
  overloadQueueWait(seconds: number): void;
  /** Where the limit, in-flight and queued gauges are read from. */
  overloadGauges(read: () => OverloadGauges): void;
}

/** Where the data path reads the current configuration; swapped atomically on hot reload. */
export interface ConfigSource {
  current(): Readonly<SidecarConfig>;
}

export interface ProxyOptions {
  /** The app, e.g. http://127.0.0.1:8080 */
  upstream: URL;
  config: ConfigSource;
  metrics: SidecarMetrics;
  logger: Logger;
  /** Bounded request head size in bytes (default 16 KiB). */
  maxHeaderSize?: number;
}

/** The proxy's listening server, built by sidecar/proxy-server.ts. */
export interface ProxyServer {
  listen(host: string, port: number): Promise<AddressInfo>;
  /** Call after the ConfigSource changed; rebuilds the breaker/pool only where their settings changed. */
  applyConfig(): void;
  breakerState(): CircuitState;
  /** The overload limiter's settings and counters, for the admin server's /config. */
  overloadState(): LimiterState;
  /** Stop accepting, answer idle keep-alive connections with Connection: close, wait for in-flight up to timeoutMs. */
  drain(timeoutMs: number): Promise<{ completed: boolean }>;
  close(): Promise<void>;
}

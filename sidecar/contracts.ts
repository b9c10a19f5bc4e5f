/**
 * The seams between the sidecar's data path (proxy, breaker, error pages) and its runtime
 * (metrics registry, admin server, config watch, drain). Both sides import only these.
 */
import type { AddressInfo } from 'node:net';
import type { SidecarConfig } from '../api/schema.js';
import type { Logger } from '../api/logger.js';
import type { LimiterState, ShedCause } from './overload/limiter.js';

export type { Logger, LimiterState };

/**
 * Why the sidecar answered (x-badgateway-reason) or, after a response head, why it aborted
 * (metric label only). docs/errors.md has the table; sidecar/errors.ts REASONS lists them.
 */
export type Reason =
  | 'connect-failed' | 'timeout' | 'reset' | 'invalid-response' | 'circuit-open'
  /** The app's response body ended early: Content-Length not met, no last chunk, reset mid-body. */
  | 'body-truncated'
  /** The app's response body paused longer than timeouts.responseBodyIdle. */
  | 'body-timeout'
  /** The client sent what must not or cannot be forwarded (400, 417, 431, 501, 505); never the app's fault. */
  | 'client-refused'
  /** The client's request head or body stopped arriving (408); never the app's fault. */
  | 'client-timeout'
  /** The overload limiter shed the request (503) before it reached the app; never the app's fault. */
  | 'overloaded';

/** badgateway_client_connection_errors_total{kind}: client connections that ended badly. */
export type ClientConnectionErrorKind = 'header-timeout' | 'body-timeout' | 'malformed' | 'reset';

/** The overload limiter's gauges, read when metrics are scraped. */
export interface OverloadGauges {
  readonly limit: number;
  readonly inFlight: number;
  readonly queued: number;
  /** Totals since start: time the queue stood, and its switches to LIFO. */
  readonly queue: { readonly standingSeconds: number; readonly lifoSwitches: number };
}

/** Breaker states as exported by badgateway_circuit_state (0 closed, 1 half-open, 2 open). */
export type CircuitState = 'closed' | 'half-open' | 'open';

/** What the data path reports; implemented with prom-client by sidecar/metrics.ts. */
export interface SidecarMetrics {
  /** One per finished client request; reason is '' for responses the app itself sent. */
  request(code: number, reason: Reason | ''): void;
  /**
   * One per finished HTTP/2 stream (besides request()): `grpc` for gRPC calls with the status the
   * client got (the app's, or the sidecar's own), `http` for other requests with an empty status.
   */
  http2Request?(kind: 'grpc' | 'http', grpcStatus: string): void;
  /** Time from sending the request upstream to its response head (or failure). */
  upstreamDuration(seconds: number): void;
  circuitState(state: CircuitState): void;
  circuitTransition(to: CircuitState): void;
  shadowTrip(): void;
  reusedSocketFailure(): void;
  /** A client connection that timed out, was reset or sent unparseable bytes (logged at debug only). */
  clientConnectionError(kind: ClientConnectionErrorKind): void;
  configReload(result: 'success' | 'error'): void;
  /** An access-log line the sampler left out (sidecar/access-log-sampler.ts). */
  accessLogSkipped?(reason: Reason): void;
  /** A request shed by the limiter (enforce), or one it would have shed (shadow), and why. */
  overloadShed(mode: 'enforce' | 'shadow', cause: ShedCause): void;
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
  /** What the app speaks: HTTP/1.1 (default) or HTTP/2 with prior knowledge (--app-protocol). */
  appProtocol?: AppProtocol;
}

export type AppProtocol = 'http1' | 'h2c';

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

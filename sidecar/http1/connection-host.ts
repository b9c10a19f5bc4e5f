/** What a client connection needs from the server that accepted it, and what the server sees of it. */
import type { Socket } from 'node:net';
import type { AccessLogSampler } from '../access-log-sampler.js';
import type { ClientConnectionErrorKind } from '../contracts.js';
import type { ConcurrencyLimiter } from '../overload/limiter.js';
import type { ConnectionPhase } from './connection-phase.js';
import type { ExchangeHost } from './exchange.js';
import type { RouteState } from './route-state.js';

/** A client connection as its server sees it. */
export interface HostedConnection {
  readonly socket: Socket;
  /** No request in progress: a drain closes it at once. */
  readonly closesOnDrain: boolean;
  close(): void;
}

export interface ConnectionHost extends ExchangeHost {
  readonly maxHeaderSize: number;
  /** host[:port] of the app, the Host of HTTP/1.0 requests that came without one. */
  readonly upstreamAuthority: string;
  /** The open circuit's access-log lines, rate-limited so an outage cannot flood the log. */
  readonly fastFailureLog: AccessLogSampler;
  /** Admission after the breaker: a permit, 'shed' (503 overloaded) or 'wait' in its queue. */
  readonly limiter: ConcurrencyLimiter;
  routeState(): RouteState;
  /** Every phase change of a connection, told by the connection's one writer of its phase. */
  phaseChanged(connection: HostedConnection, from: ConnectionPhase, to: ConnectionPhase): void;
  connectionClosed(connection: HostedConnection): void;
  /** A per-connection client problem (timeout, reset, malformed request), counted and logged at debug. */
  clientError(kind: ClientConnectionErrorKind, detail: object): void;
}

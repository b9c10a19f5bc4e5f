/** What a client connection needs from the server that accepted it. */
import type { AccessLogSampler } from '../access-log-sampler.js';
import type { ClientConnectionErrorKind, Logger, SidecarMetrics } from '../contracts.js';
import type { ConcurrencyLimiter } from '../overload/limiter.js';
import type { BreakerTicket } from '../breaker.js';
import type { Permit } from '../overload/limiter.js';
import type { ClientConnection } from './client-connection.js';
import type { ClientExchange, ExchangeClient, ExchangeHost, ExchangeRequest } from './exchange.js';
import type { RouteState } from './route-state.js';

export interface ConnectionHost extends ExchangeHost {
  readonly metrics: SidecarMetrics;
  readonly logger: Logger;
  readonly maxHeaderSize: number;
  /** host[:port] of the app, the Host of HTTP/1.0 requests that came without one. */
  readonly upstreamAuthority: string;
  /** The open circuit's access-log lines, rate-limited so an outage cannot flood the log. */
  readonly fastFailureLog: AccessLogSampler;
  /** Admission after the breaker: a permit, 'shed' (503 overloaded) or 'wait' in its queue. */
  readonly limiter: ConcurrencyLimiter;
  routeState(): RouteState;
  /** The exchange for the app's protocol: HTTP/1.1 (Exchange) or h2c. */
  newExchange(client: ExchangeClient, state: RouteState, request: ExchangeRequest, ticket: BreakerTicket, permit: Permit): ClientExchange;
  exchangeStarted(): void;
  connectionClosed(connection: ClientConnection): void;
  /** A per-connection client problem (timeout, reset, malformed request), counted and logged at debug. */
  clientError(kind: ClientConnectionErrorKind, detail: object): void;
}

/**
 * The sidecar's listening proxy: a node:http server in front of one upstream, one breaker and one
 * connection pool per configuration. The open-circuit path answers synchronously from
 * precomputed state without touching the upstream.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SidecarConfig } from '../api/schema.js';
import { createBreaker, sameBreakerSettings, type Breaker } from './breaker.js';
import type { CircuitState, Logger, ProxyOptions, ProxyServer } from './contracts.js';
import { writeErrorResponse } from './error-pages.js';
import { createServer } from './node-http.js';
import { answerClientError } from './proxy/client-errors.js';
import { Exchange, type ExchangeHost } from './proxy/exchange.js';
import { requestIdOf } from './proxy/headers.js';
import { buildRouteState, overloadRetryAfter, retryAfterFor, type RouteState } from './proxy/route-state.js';
import { tunnelUpgrade } from './proxy/upgrade.js';
import { createUpstreamPool, type UpstreamPool } from './proxy/upstream-pool.js';
import { ConcurrencyLimiter, type LimiterState, type Permit } from './overload/limiter.js';
import { QueuedRequest } from './overload/queued-request.js';

const DEFAULT_MAX_HEADER_SIZE = 16 * 1024;
/** Longer than the idle timeouts of the load balancers usually in front, so they close first. */
const CLIENT_KEEP_ALIVE_MS = 65_000;
/** Slowloris guard: the whole request head must arrive within this. */
const CLIENT_HEADERS_TIMEOUT_MS = 15_000;
/**
 * Node's default backlog (511) overflows when a burst of new connections meets a busy event loop:
 * the kernel drops their SYNs and clients retry after 1 s, then 3 s. The kernel caps this at
 * net.core.somaxconn (4096 by default since Linux 5.4), as it does nginx's `listen ... backlog=`.
 */
const LISTEN_BACKLOG = 4096;

/** Whether `logger` writes level info; pino says so exactly, other loggers are assumed to. */
function logsInfo(logger: Logger): boolean {
  const isLevelEnabled = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return typeof isLevelEnabled === 'function' ? isLevelEnabled.call(logger, 'info') : true;
}

function sameTimeouts(a: Readonly<SidecarConfig>, b: Readonly<SidecarConfig>): boolean {
  return JSON.stringify(a.timeouts) === JSON.stringify(b.timeouts);
}

class SidecarProxy implements ProxyServer, ExchangeHost {
  readonly metrics;
  readonly logger;
  readonly accessLog: boolean;
  private readonly server: Server;
  private readonly maxHeaderSize: number;
  private state: RouteState;
  /** One limiter for the proxy's life: reloads reconfigure it, so its counts and queue carry over. */
  private readonly limiter: ConcurrencyLimiter;
  private draining = false;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: ProxyOptions) {
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.accessLog = logsInfo(options.logger);
    this.maxHeaderSize = options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
    const config = options.config.current();
    this.state = buildRouteState(config, this.newBreaker(config), this.newPool(config));
    this.limiter = new ConcurrencyLimiter(this.state.overload, {
      shed: (mode) => this.metrics.overloadShed(mode),
      queueWait: (seconds) => this.metrics.overloadQueueWait(seconds),
    });
    this.metrics.overloadGauges(() => this.limiter.state());
    this.server = createServer({
      maxHeaderSize: this.maxHeaderSize,
      headersTimeout: CLIENT_HEADERS_TIMEOUT_MS,
      // Node enforces headersTimeout only at this interval (30 s by default): slowloris clients
      // would otherwise hold their sockets twice as long as the timeout says.
      connectionsCheckingInterval: 1_000,
      keepAliveTimeout: CLIENT_KEEP_ALIVE_MS,
      requireHostHeader: false,
    }, this.onRequest);
    this.server.on('clientError', (error: Error & { code?: string }, socket) => answerClientError(error, socket, this.logger));
    this.server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
      tunnelUpgrade(this.state, this.options.upstream, req, socket, head, this.metrics, this.logger);
    });
  }

  private newBreaker(config: Readonly<SidecarConfig>): Breaker {
    return createBreaker(config.circuitBreaker, this.metrics, this.logger);
  }

  private newPool(config: Readonly<SidecarConfig>): UpstreamPool {
    return createUpstreamPool(this.options.upstream, config.timeouts, this.maxHeaderSize);
  }

  private readonly onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const state = this.state;
    const requestId = requestIdOf(req.headers['x-request-id']);
    // The open circuit answers first; only then does the limiter count the request.
    if (state.breaker.rejects()) return this.answerCircuitOpen(state, req, res, requestId);
    const admission = this.limiter.acquire(req.url ?? '/');
    if (admission === 'shed') return this.answerOverloaded(state, req, res, requestId);
    this.inFlight += 1;
    if (admission === 'wait') this.limiter.enqueue(new QueuedRequest(this, req, res, requestId));
    else this.forward(req, res, requestId, admission);
  };

  /** Sends an admitted request upstream (at once, or when the limiter grants a queued one). */
  forward(req: IncomingMessage, res: ServerResponse, requestId: string, permit: Permit): void {
    const state = this.state;
    const ticket = state.breaker.admit();
    if (ticket === null) {
      permit.release();
      this.answerCircuitOpen(state, req, res, requestId);
      this.exchangeDone();
      return;
    }
    new Exchange(this, state, req, res, requestId, ticket, permit).start();
  }

  /** A queued request the limiter shed (its wait ran out, or the queue shrank). */
  shedQueued(req: IncomingMessage, res: ServerResponse, requestId: string): void {
    this.answerOverloaded(this.state, req, res, requestId);
    this.exchangeDone();
  }

  private answerCircuitOpen(state: RouteState, req: IncomingMessage, res: ServerResponse, requestId: string): void {
    const status = state.config.openStatus;
    writeErrorResponse(res, state.pages, req.headers.accept, {
      status,
      reason: 'circuit-open',
      proxyError: 'destination_unavailable',
      requestId,
      retryAfterSeconds: retryAfterFor(state),
      close: this.draining,
    });
    this.metrics.request(status, 'circuit-open');
  }

  private answerOverloaded(state: RouteState, req: IncomingMessage, res: ServerResponse, requestId: string): void {
    writeErrorResponse(res, state.pages, req.headers.accept, {
      status: 503,
      reason: 'overloaded',
      proxyError: 'connection_limit_reached',
      requestId,
      retryAfterSeconds: overloadRetryAfter(state),
      close: this.draining,
    });
    this.metrics.request(503, 'overloaded');
  }

  isDraining(): boolean {
    return this.draining;
  }

  exchangeDone(): void {
    this.inFlight -= 1;
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  applyConfig(): void {
    const next = this.options.config.current();
    const previous = this.state;
    if (next === previous.config) return;
    const breaker = sameBreakerSettings(previous.config.circuitBreaker, next.circuitBreaker) ? previous.breaker : this.newBreaker(next);
    const pool = sameTimeouts(previous.config, next) ? previous.pool : this.newPool(next);
    this.state = buildRouteState(next, breaker, pool);
    this.limiter.configure(this.state.overload);
    if (breaker !== previous.breaker) previous.breaker.close();
    if (pool !== previous.pool) void previous.pool.close();
    this.logger.info({ breakerKept: breaker === previous.breaker, poolKept: pool === previous.pool }, 'configuration applied');
  }

  breakerState(): CircuitState {
    return this.state.breaker.state();
  }

  overloadState(): LimiterState {
    return this.limiter.state();
  }

  async drain(timeoutMs: number): Promise<{ completed: boolean }> {
    this.draining = true;
    this.server.close();
    this.server.closeIdleConnections();
    if (this.inFlight === 0) return { completed: true };
    const completed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!completed) this.server.closeAllConnections();
    return { completed };
  }

  async close(): Promise<void> {
    this.draining = true;
    this.limiter.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.state.breaker.close();
    await this.state.pool.destroy();
  }
}

export function createProxyServer(options: ProxyOptions): ProxyServer {
  return new SidecarProxy(options);
}

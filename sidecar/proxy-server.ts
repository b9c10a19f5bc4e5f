/**
 * The sidecar's listening proxy: raw `net` sockets framed by llhttp (sidecar/http1/), or by
 * node:http2 when a connection opens with the h2c preface (sidecar/http2/), in front of one
 * upstream, one breaker and one connection pool per configuration. The open-circuit path answers
 * from precomputed bytes without touching the upstream.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { SidecarConfig } from '../api/schema.js';
import { createAccessLogSampler } from './access-log-sampler.js';
import { createBreaker, sameBreakerSettings, type Breaker } from './breaker.js';
import { deadlinesOf, sameDeadlines, type Deadlines } from './core/deadlines.js';
import type { CircuitState, ClientConnectionErrorKind, Logger, ProxyOptions, ProxyServer } from './contracts.js';
import { ClientConnection } from './http1/client-connection.js';
import type { ConnectionHost, HostedConnection } from './http1/connection-host.js';
import { isBusy, type ConnectionPhase } from './http1/connection-phase.js';
import { HEAD_TIMEOUT_MS, TIMER_HEAD } from './http1/connection-timeouts.js';
import { buildRouteState, type RouteState } from './http1/route-state.js';
import { UpstreamPool } from './http1/upstream-pool.js';
import type { AppCall, AppCallOwner, AppRequest } from './http2/app-call.js';
import { AppSide } from './http2/app-side.js';
import { Http2ClientSide } from './http2/client-side.js';
import { sniffProtocol, type Protocol, type SniffOwner } from './http2/preface.js';
import type { StreamHost } from './http2/stream-host.js';
import { ConcurrencyLimiter, type LimiterState } from './overload/limiter.js';

const DEFAULT_MAX_HEADER_SIZE = 16 * 1024;
/**
 * Node's default backlog (511) overflows when a burst of new connections meets a busy event loop:
 * the kernel drops their SYNs and clients retry after 1 s, then 3 s. The kernel caps this at
 * net.core.somaxconn (4096 by default since Linux 5.4), as it does nginx's `listen ... backlog=`.
 */
const LISTEN_BACKLOG = 4096;

/** Whether `logger` writes `level`; pino says so exactly, other loggers are assumed to. */
function logs(logger: Logger, level: string): boolean {
  const isLevelEnabled = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return typeof isLevelEnabled === 'function' ? isLevelEnabled.call(logger, level) : true;
}

class SidecarProxy implements ProxyServer, ConnectionHost, StreamHost, SniffOwner {
  readonly metrics;
  readonly logger;
  readonly accessLog: boolean;
  readonly maxHeaderSize: number;
  readonly upstreamAuthority: string;
  private readonly debugLog: boolean;
  private readonly server: Server;
  private readonly connections = new Set<HostedConnection>();
  /** Connections whose first bytes have not said yet which protocol they speak. */
  private readonly undecided = new Set<Socket>();
  private readonly http2: Http2ClientSide;
  private readonly app: AppSide;
  private state: RouteState;
  /** One limiter for the proxy's life: reloads reconfigure it, so its counts and queue carry over. */
  readonly limiter: ConcurrencyLimiter;
  private draining = false;
  /** Connections with a request in flight or queued: what a drain waits for (phaseChanged keeps it). */
  private busy = 0;
  private idleWaiters: (() => void)[] = [];
  readonly fastFailureLog = createAccessLogSampler({ onSkipped: (reason) => this.metrics.accessLogSkipped?.(reason) });

  constructor(private readonly options: ProxyOptions) {
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.accessLog = logs(options.logger, 'info');
    this.debugLog = logs(options.logger, 'debug');
    this.maxHeaderSize = options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
    this.upstreamAuthority = options.upstream.host;
    const config = options.config.current();
    this.app = new AppSide(options.appProtocol ?? 'http1', options.upstream.origin);
    const pool = this.newPool(deadlinesOf(config.timeouts));
    this.state = buildRouteState(config, this.newBreaker(config), pool, this.app.links(pool));
    this.limiter = new ConcurrencyLimiter(this.state.overload, {
      shed: (mode, cause) => this.metrics.overloadShed(mode, cause),
      queueWait: (seconds) => this.metrics.overloadQueueWait(seconds),
    });
    this.metrics.overloadGauges(() => this.limiter.state());
    this.http2 = new Http2ClientSide(this, this.maxHeaderSize);
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, this.onConnection);
  }

  private newBreaker(config: Readonly<SidecarConfig>): Breaker {
    return createBreaker(config.circuitBreaker, this.metrics, this.logger);
  }

  private newPool(deadlines: Deadlines): UpstreamPool {
    return new UpstreamPool(this.options.upstream, deadlines, this.maxHeaderSize);
  }

  private readonly onConnection = (socket: Socket): void => {
    if (this.draining) {
      socket.destroy();
      return;
    }
    this.undecided.add(socket);
    sniffProtocol(socket, this, HEAD_TIMEOUT_MS);
  };

  decided(socket: Socket, protocol: Protocol, expired: boolean): void {
    this.undecided.delete(socket);
    if (protocol === 'h2c') {
      this.http2.accept(socket);
      return;
    }
    const connection = new ClientConnection(this, socket);
    this.connections.add(connection);
    // A client silent (or stuck inside the preface) until the head timeout gets HTTP/1.1's 408.
    if (expired) connection.timerFired(TIMER_HEAD);
    else socket.resume();
  }

  abandoned(socket: Socket): void {
    this.undecided.delete(socket);
  }

  appCall(owner: AppCallOwner, request: AppRequest, state: RouteState): AppCall {
    return this.app.call(owner, request, state);
  }

  routeState(): RouteState {
    return this.state;
  }

  isDraining(): boolean {
    return this.draining;
  }

  phaseChanged(_connection: HostedConnection, from: ConnectionPhase, to: ConnectionPhase): void {
    const change = Number(isBusy(to)) - Number(isBusy(from));
    if (change !== 0) this.busyChanged(change as 1 | -1);
  }

  /** Work in progress changed by one: an HTTP/1.1 connection's busy phase, or an HTTP/2 stream. */
  busyChanged(change: 1 | -1): void {
    this.busy += change;
    if (this.busy === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  connectionClosed(connection: HostedConnection): void {
    this.connections.delete(connection);
  }

  clientError(kind: ClientConnectionErrorKind, detail: object): void {
    this.metrics.clientConnectionError(kind);
    if (this.debugLog) this.logger.debug({ kind, ...detail }, 'client connection problem');
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
    const deadlines = deadlinesOf(next.timeouts);
    const pool = sameDeadlines(previous.deadlines, deadlines) ? previous.pool : this.newPool(deadlines);
    this.state = buildRouteState(next, breaker, pool, this.app.links(pool));
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

  private closeIdleConnections(): void {
    for (const connection of this.connections) if (connection.closesOnDrain) connection.close();
    for (const socket of this.undecided) socket.destroy();
    this.http2.drain();
  }

  async drain(timeoutMs: number): Promise<{ completed: boolean }> {
    this.draining = true;
    this.server.close();
    this.closeIdleConnections();
    if (this.busy === 0) return { completed: true };
    const completed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!completed) {
      for (const connection of this.connections) connection.socket.destroy();
      this.http2.destroy();
    }
    return { completed };
  }

  async close(): Promise<void> {
    this.draining = true;
    this.limiter.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.connections) connection.socket.destroy();
    for (const socket of this.undecided) socket.destroy();
    this.http2.destroy();
    await closed;
    this.state.breaker.close();
    this.app.destroy();
    await this.state.pool.destroy();
  }
}

export function createProxyServer(options: ProxyOptions): ProxyServer {
  return new SidecarProxy(options);
}

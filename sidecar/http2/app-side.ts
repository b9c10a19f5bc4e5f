/**
 * What the app speaks (--app-protocol), decided in one place: the links an HTTP/1.1 client's
 * exchange uses (the pool, or streams on h2c sessions) and the call an HTTP/2 client's stream makes.
 */
import type { AppProtocol } from '../contracts.js';
import type { AppLinks } from '../http1/app-link.js';
import type { RouteState } from '../http1/route-state.js';
import type { UpstreamPool } from '../http1/upstream-pool.js';
import type { AppCall, AppCallOwner, AppRequest } from './app-call.js';
import { AppSessions } from './app-sessions.js';
import { H2AppCall } from './h2-app-call.js';
import { H2cLinks } from './h2c-link.js';
import { Http1AppCall } from './http1-app-call.js';

export class AppSide {
  /** The h2c sessions to the app, for the proxy's life (a reload keeps them). */
  private readonly sessions: AppSessions | null;
  private readonly h2cLinks: H2cLinks | null;

  constructor(protocol: AppProtocol, origin: string) {
    this.sessions = protocol === 'h2c' ? new AppSessions(origin) : null;
    this.h2cLinks = this.sessions === null ? null : new H2cLinks(this.sessions);
  }

  links(pool: UpstreamPool): AppLinks {
    return this.h2cLinks ?? pool;
  }

  call(owner: AppCallOwner, request: AppRequest, state: RouteState): AppCall {
    if (this.sessions !== null) return new H2AppCall(owner, this.sessions, request, state.deadlines);
    return new Http1AppCall(owner, state.pool, request, state.retryAttempts);
  }

  destroy(): void {
    this.sessions?.destroy();
  }
}

/**
 * Everything the data path derives from one configuration, built once per (re)load so that
 * answering a request reads precomputed values only.
 */
import { parseDuration } from '../../api/duration.js';
import type { SidecarConfig } from '../../api/schema.js';
import type { Breaker } from '../breaker.js';
import type { Deadlines } from '../core/deadlines.js';
import { ErrorPages } from '../error-pages.js';
import { OpenCircuitAnswers } from './answers.js';
import type { AppLinks } from './app-link.js';
import { limiterSettings } from '../overload/settings.js';
import { TrustedProxies } from '../trusted-proxies.js';
import type { LimiterSettings } from '../overload/limiter.js';
import type { UpstreamPool } from './upstream-pool.js';

export interface RouteState {
  readonly config: Readonly<SidecarConfig>;
  readonly pages: ErrorPages;
  readonly openCircuit: OpenCircuitAnswers;
  readonly breaker: Breaker;
  readonly pool: UpstreamPool;
  /** Where exchanges get their way to the app: the pool, or h2c sessions (--app-protocol h2c). */
  readonly app: AppLinks;
  readonly failureStatusCodes: ReadonlySet<number>;
  /** gRPC statuses (trailers or Trailers-Only headers) that count as breaker failures. */
  readonly failureGrpcCodes: ReadonlySet<number>;
  /** Fixed Retry-After seconds from the policy, else undefined (time left until the trial). */
  readonly retryAfterSeconds: number | undefined;
  readonly retryAttempts: number;
  /** The policy's timeouts, parsed once for this configuration (the pool's are the same object). */
  readonly deadlines: Deadlines;
  readonly overload: LimiterSettings;
  /** Peers whose X-Forwarded-Proto and X-Forwarded-Host are forwarded as sent. */
  readonly trustedProxies: TrustedProxies;
}

export function buildRouteState(config: Readonly<SidecarConfig>, breaker: Breaker, pool: UpstreamPool, app: AppLinks = pool): RouteState {
  const pages = new ErrorPages(config);
  return {
    config,
    pages,
    openCircuit: new OpenCircuitAnswers(pages, config.openStatus),
    breaker,
    pool,
    app,
    failureStatusCodes: new Set(config.circuitBreaker.failureStatusCodes),
    failureGrpcCodes: new Set(config.circuitBreaker.failureGrpcCodes),
    retryAfterSeconds: config.retryAfter === undefined ? undefined : Math.max(0, Math.ceil(parseDuration(config.retryAfter) / 1000)),
    retryAttempts: config.retry.attempts,
    deadlines: pool.deadlines,
    overload: limiterSettings(config.overload),
    trustedProxies: new TrustedProxies(config.trustedProxies),
  };
}

/** Retry-After for a shed request: the policy's retryAfter, else one second. */
export function overloadRetryAfter(state: RouteState): number {
  return state.retryAfterSeconds ?? 1;
}

export function retryAfterFor(state: RouteState): number {
  return state.retryAfterSeconds ?? Math.max(1, Math.ceil(state.breaker.msUntilTrial() / 1000));
}

/**
 * Everything the data path derives from one configuration, built once per (re)load so that
 * answering a request reads precomputed values only.
 */
import { parseDuration } from '../../api/duration.js';
import type { SidecarConfig } from '../../api/schema.js';
import type { Breaker } from '../breaker.js';
import { ErrorPages } from '../error-pages.js';
import { OpenCircuitAnswers } from './answers.js';
import { limiterSettings } from '../overload/settings.js';
import { TrustedProxies } from '../trusted-proxies.js';
import type { LimiterSettings } from '../overload/limiter.js';
import type { UpstreamPool } from './upstream-pool.js';

/** Between two pieces of a request body, when the policy does not say (nginx's client_body_timeout). */
const DEFAULT_REQUEST_BODY_IDLE_MS = 60_000;

export interface RouteState {
  readonly config: Readonly<SidecarConfig>;
  readonly pages: ErrorPages;
  readonly openCircuit: OpenCircuitAnswers;
  readonly breaker: Breaker;
  readonly pool: UpstreamPool;
  readonly failureStatusCodes: ReadonlySet<number>;
  /** Fixed Retry-After seconds from the policy, else undefined (time left until the trial). */
  readonly retryAfterSeconds: number | undefined;
  readonly retryAttempts: number;
  readonly requestBodyIdleMs: number;
  readonly overload: LimiterSettings;
  /** Peers whose X-Forwarded-Proto and X-Forwarded-Host are forwarded as sent. */
  readonly trustedProxies: TrustedProxies;
}

export function buildRouteState(config: Readonly<SidecarConfig>, breaker: Breaker, pool: UpstreamPool): RouteState {
  const pages = new ErrorPages(config);
  const requestBodyIdle = (config.timeouts as { requestBodyIdle?: string }).requestBodyIdle;
  return {
    config,
    pages,
    openCircuit: new OpenCircuitAnswers(pages, config.openStatus),
    breaker,
    pool,
    failureStatusCodes: new Set(config.circuitBreaker.failureStatusCodes),
    retryAfterSeconds: config.retryAfter === undefined ? undefined : Math.max(0, Math.ceil(parseDuration(config.retryAfter) / 1000)),
    retryAttempts: config.retry.attempts,
    requestBodyIdleMs: requestBodyIdle === undefined ? DEFAULT_REQUEST_BODY_IDLE_MS : parseDuration(requestBodyIdle),
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

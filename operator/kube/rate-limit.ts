/**
 * Client-side rate limiting of the operator's API requests, as client-go's token bucket does
 * (`QPS`, `Burst`): a burst goes out at once, then one request per 1/qps seconds. Each request
 * reserves its turn when it asks, so waiting requests leave in the order they came and no timer
 * runs while nothing waits.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface RateLimit {
  /** Sustained requests per second. */
  qps: number;
  /** Requests that may go at once after a quiet spell. */
  burst: number;
}

/** controller-runtime's defaults for a manager's client (client-go's own are 5 and 10). */
export const DEFAULT_RATE_LIMIT: RateLimit = Object.freeze({ qps: 20, burst: 30 });

export interface RateLimiter {
  /** Resolves when the caller may send its request. */
  wait(): Promise<void>;
}

export interface TokenBucketClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: TokenBucketClock = {
  now: () => performance.now(),
  // A request waiting for its turn must not keep a stopping process alive.
  sleep: (ms) => sleep(ms, undefined, { ref: false }),
};

export function tokenBucket(limit: RateLimit, clock: TokenBucketClock = realClock): RateLimiter {
  let tokens = limit.burst;
  let updatedAt = clock.now();
  return {
    wait: () => {
      const now = clock.now();
      tokens = Math.min(limit.burst, tokens + ((now - updatedAt) * limit.qps) / 1000);
      updatedAt = now;
      // Below zero, tokens count the turns already promised to earlier waiters.
      tokens -= 1;
      if (tokens >= 0) return Promise.resolve();
      return clock.sleep((-tokens * 1000) / limit.qps);
    },
  };
}

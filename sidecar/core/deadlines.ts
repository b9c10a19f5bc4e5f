/**
 * The policy's timeouts as milliseconds, parsed once per configuration and handed down to whatever
 * arms a timer. The schema gives every field a default, so each is always present.
 */
import { isDeepStrictEqual } from 'node:util';
import { parseDuration } from '../../api/duration.js';
import type { Timeouts } from '../../api/schema.js';

export interface Deadlines {
  /** TCP connect to the app. */
  readonly connectMs: number;
  /** From the end of the request until the app's response head. */
  readonly responseMs: number;
  /** Keep-alive idle of pooled connections to the app (at least 1 ms). */
  readonly idleMs: number;
  /** Longest pause between two pieces of the client's request body. */
  readonly requestBodyIdleMs: number;
  /** Longest pause between two pieces of the app's response body. */
  readonly responseBodyIdleMs: number;
}

export function deadlinesOf(timeouts: Readonly<Timeouts>): Deadlines {
  return Object.freeze({
    connectMs: parseDuration(timeouts.connect),
    responseMs: parseDuration(timeouts.response),
    idleMs: Math.max(1, parseDuration(timeouts.idle)),
    requestBodyIdleMs: parseDuration(timeouts.requestBodyIdle),
    responseBodyIdleMs: parseDuration(timeouts.responseBodyIdle),
  });
}

/** Whether a reload changed no timeout (so the pool, whose connections carry them, is kept). */
export function sameDeadlines(a: Deadlines, b: Deadlines): boolean {
  return isDeepStrictEqual(a, b);
}

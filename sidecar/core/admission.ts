/**
 * Admission of a request that passed its front end's request checks (sidecar/http1/request-checks.ts
 * for HTTP/1.1): the breaker first (an open circuit answers at once, upstream and limiter
 * untouched), then the limiter (a permit, a shed, or a wait in its queue), then the breaker's
 * ticket. Protocol-neutral: every front end admits through here.
 */
import type { Breaker, BreakerTicket } from '../breaker.js';
import { NO_PERMIT, type ConcurrencyLimiter, type Permit } from '../overload/limiter.js';

/** A request answered by the sidecar without the app. */
export type AnswerWithoutAppKind = 'circuit-open' | 'overloaded';

export type Admission =
  | { readonly verdict: 'forward'; readonly ticket: BreakerTicket; readonly permit: Permit }
  | { readonly verdict: 'answer'; readonly kind: AnswerWithoutAppKind }
  /** Wait in the limiter's queue; its grant is taken up with admitAfterWait(). */
  | { readonly verdict: 'wait' };

const OPEN: Admission = Object.freeze({ verdict: 'answer', kind: 'circuit-open' });
const SHED: Admission = Object.freeze({ verdict: 'answer', kind: 'overloaded' });
const WAIT: Admission = Object.freeze({ verdict: 'wait' });

/**
 * `tunnel`: the request asks to switch protocols; a tunnel's lifetime says nothing about the app's
 * request latency, so it is never limited.
 */
export function admit(breaker: Breaker, limiter: ConcurrencyLimiter, path: string, tunnel: boolean): Admission {
  if (breaker.rejects()) return OPEN;
  const permit = tunnel ? NO_PERMIT : limiter.acquire(path);
  if (permit === 'shed') return SHED;
  if (permit === 'wait') return WAIT;
  return admitGranted(breaker, permit);
}

/** The limiter granted `permit` (at once or after a wait): the breaker's ticket, or circuit-open. */
export function admitGranted(breaker: Breaker, permit: Permit): Admission {
  return ticketFor(breaker, permit, releasePermit);
}

/**
 * A request granted after waiting in the limiter's queue: the circuit may have opened meanwhile.
 * Then the open circuit answers it, as it answers every request now, and the limiter counts a shed:
 * it was held for overload and never reached the app.
 */
export function admitAfterWait(breaker: Breaker, limiter: ConcurrencyLimiter, permit: Permit): Admission {
  return ticketFor(breaker, permit, (refused) => limiter.shedGranted(refused));
}

function releasePermit(permit: Permit): void {
  permit.release();
}

function ticketFor(breaker: Breaker, permit: Permit, giveBack: (permit: Permit) => void): Admission {
  const ticket = breaker.admit();
  if (ticket === null) {
    giveBack(permit);
    return OPEN;
  }
  return { verdict: 'forward', ticket, permit };
}

/**
 * A request waiting in the limiter's queue, and the later turn in which the limiter's verdict on
 * it is acted on: never inside another connection's parse (a release there grants this one), and
 * after the breaker has counted the outcome that freed the slot, so a circuit it opened answers it.
 */
import type { Permit } from '../overload/limiter.js';
import type { AnswerWithoutAppKind } from '../core/admission.js';
import type { ExchangeRequest } from './exchange.js';

/** Its head is parsed, its body (if any) not read. */
export interface QueuedRequest {
  readonly request: ExchangeRequest;
  /** A body or a 100-continue is still due from the client: an answer without the app closes. */
  readonly bodyUnread: boolean;
  /** The limiter's grant, taken up in the next turn of the event loop (see admitLater). */
  permit: Permit | null;
}

/** The connection a queued request belongs to. */
export interface QueueOwner {
  admitQueued(queued: QueuedRequest): void;
  settleQueued(queued: QueuedRequest, kind: AnswerWithoutAppKind): void;
}

function admitLater(owner: QueueOwner, queued: QueuedRequest): void {
  owner.admitQueued(queued);
}

function shedLater(owner: QueueOwner, queued: QueuedRequest): void {
  owner.settleQueued(queued, 'overloaded');
}

/** The limiter granted `permit`: the request starts in the next turn (unless its client left). */
export function admitInNextTurn(owner: QueueOwner, queued: QueuedRequest, permit: Permit): void {
  queued.permit = permit;
  setImmediate(admitLater, owner, queued).unref();
}

/** The limiter shed the request from its queue: answered (503 overloaded) in the next turn. */
export function shedInNextTurn(owner: QueueOwner, queued: QueuedRequest): void {
  setImmediate(shedLater, owner, queued).unref();
}

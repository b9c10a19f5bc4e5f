/**
 * A request waiting in the limiter's queue, and the later turn in which the limiter's verdict on
 * it is acted on: never inside another connection's parse (a release there grants this one), and
 * after the breaker has counted the outcome that freed the slot, so a circuit it opened answers it.
 */
import type { Breaker, BreakerTicket } from '../breaker.js';
import { admitAfterWait, type AnswerWithoutAppKind } from '../core/admission.js';
import type { ConcurrencyLimiter, Permit, Waiter } from '../overload/limiter.js';
import type { ExchangeRequest } from './exchange.js';

/** The connection a queued request belongs to. */
export interface QueueOwner {
  /** The connection is on its way out (its client left; its 'close' is still to come). */
  readonly ending: boolean;
  /** Granted and admitted by the breaker: forward it. */
  startQueued(queued: QueuedRequest, ticket: BreakerTicket, permit: Permit): void;
  /** Shed, or the circuit opened while it waited: answer it without the app. */
  answerQueued(queued: QueuedRequest, kind: AnswerWithoutAppKind): void;
}

function admitLater(queued: QueuedRequest): void {
  queued.admit();
}

function shedLater(queued: QueuedRequest): void {
  queued.answer('overloaded');
}

/** Its head is parsed, its body (if any) not read. */
export class QueuedRequest implements Waiter {
  /** The limiter's grant, taken up in the next turn of the event loop. */
  private permit: Permit | null = null;
  private gone = false;

  constructor(
    private readonly owner: QueueOwner,
    private readonly breaker: () => Breaker,
    private readonly limiter: ConcurrencyLimiter,
    readonly request: ExchangeRequest,
    /** A body or a 100-continue is still due from the client: an answer without the app closes. */
    readonly bodyUnread: boolean,
  ) {}

  /** The limiter granted `permit`: the request starts in the next turn (unless its client left). */
  granted(permit: Permit): void {
    // A connection on its way out hands the slot back at once.
    if (this.gone || this.owner.ending) {
      permit.release();
      return;
    }
    this.permit = permit;
    setImmediate(admitLater, this).unref();
  }

  /** The limiter shed the request from its queue: answered (503 overloaded) in the next turn. */
  shed(): void {
    if (!this.gone) setImmediate(shedLater, this).unref();
  }

  /** The client left while its request waited: out of the queue, and a grant already made is returned. */
  leave(): void {
    this.gone = true;
    this.limiter.cancel(this);
    this.permit?.release();
  }

  /** @internal — the next turn after a grant. */
  admit(): void {
    if (this.gone || this.permit === null) return;
    this.gone = true;
    if (this.owner.ending) {
      this.permit.release();
      this.owner.answerQueued(this, 'overloaded');
      return;
    }
    const admission = admitAfterWait(this.breaker(), this.limiter, this.permit);
    if (admission.verdict === 'forward') this.owner.startQueued(this, admission.ticket, admission.permit);
    else this.owner.answerQueued(this, 'circuit-open');
  }

  /** @internal — the next turn after a shed. */
  answer(kind: AnswerWithoutAppKind): void {
    if (this.gone) return;
    this.gone = true;
    this.owner.answerQueued(this, kind);
  }
}

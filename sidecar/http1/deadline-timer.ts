/**
 * A connection's one timer, re-armed for each phase (head, body idle, keep-alive, response...).
 * Re-arming only moves a deadline: the Node Timeout behind it is created again only when the new
 * deadline comes before the one it is scheduled for. A Timeout that fires before the deadline is
 * scheduled again for the rest, so a keep-alive connection costs no timer work per request.
 */
import { performance } from 'node:perf_hooks';

export const TIMER_NONE = 0;

/** Told which timeout ran out (the timer is already disarmed). */
export interface TimerOwner {
  timerFired(kind: number): void;
}

function onTimeout(timer: DeadlineTimer): void {
  timer.fired();
}

export class DeadlineTimer {
  private timeout: NodeJS.Timeout | null = null;
  /** When the scheduled Timeout fires, on performance.now()'s clock. */
  private firesAt = 0;
  private deadline = 0;
  private ms = 0;
  /** TIMER_NONE while disarmed. */
  kind = TIMER_NONE;

  constructor(private readonly owner: TimerOwner) {}

  arm(kind: number, ms: number): void {
    this.kind = kind;
    this.ms = ms;
    const deadline = performance.now() + ms;
    this.deadline = deadline;
    if (this.timeout === null || this.firesAt > deadline) this.schedule(ms, deadline);
  }

  /** Nothing is due; a scheduled Timeout stays and finds nothing to do (cancel() releases it). */
  disarm(): void {
    this.kind = TIMER_NONE;
  }

  /** Disarms and drops the Timeout: for a connection that is gone (it would keep it reachable). */
  cancel(): void {
    this.kind = TIMER_NONE;
    if (this.timeout !== null) clearTimeout(this.timeout);
    this.timeout = null;
  }

  /** Restarts the armed timeout's full duration (the body-idle clock on a piece of body). */
  restart(): void {
    if (this.kind !== TIMER_NONE) this.deadline = performance.now() + this.ms;
  }

  private schedule(ms: number, deadline: number): void {
    if (this.timeout !== null) clearTimeout(this.timeout);
    this.timeout = setTimeout(onTimeout, ms, this);
    this.timeout.unref();
    this.firesAt = deadline;
  }

  /** @internal — from onTimeout. */
  fired(): void {
    this.timeout = null;
    const kind = this.kind;
    if (kind === TIMER_NONE) return;
    // The event loop's clock may run a little behind: a deadline not reached yet waits on.
    const left = this.deadline - performance.now();
    if (left > 0) {
      this.schedule(Math.ceil(left), this.deadline);
      return;
    }
    this.kind = TIMER_NONE;
    this.owner.timerFired(kind);
  }
}

/**
 * A client connection's one timer, re-armed for each phase: the head (slowloris), the body-idle
 * and the keep-alive timeouts, and the linger after the sidecar ended the connection. One per connection, its kind a plain field: nothing per request.
 */

/** Longer than the idle timeouts of the load balancers usually in front, so they close first. */
export const KEEP_ALIVE_MS = 65_000;
/** Slowloris guard: the whole request head must arrive within this. */
export const HEAD_TIMEOUT_MS = 15_000;

/** How long an ended connection waits for the client to close its side before it is destroyed. */
export const LINGER_MS = 5_000;

export const TIMER_NONE = 0;
export const TIMER_HEAD = 1;
export const TIMER_BODY = 2;
export const TIMER_KEEP_ALIVE = 3;
export const TIMER_LINGER = 4;

/** Told which timeout ran out (the timer is already disarmed). */
export interface TimerOwner {
  timerFired(kind: number): void;
}

function onTimer(timer: ConnectionTimer): void {
  timer.fired();
}

export class ConnectionTimer {
  private timer: NodeJS.Timeout | null = null;
  /** TIMER_NONE while disarmed. */
  kind = TIMER_NONE;

  constructor(private readonly owner: TimerOwner) {}

  arm(kind: number, ms: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.kind = kind;
    this.timer = setTimeout(onTimer, ms, this);
    this.timer.unref();
  }

  disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.kind = TIMER_NONE;
  }

  /** Restarts the body-idle clock on a piece of body (only while that is what is armed). */
  refreshBody(): void {
    if (this.kind === TIMER_BODY && this.timer !== null) this.timer.refresh();
  }

  /** @internal — from onTimer. */
  fired(): void {
    const kind = this.kind;
    this.timer = null;
    this.kind = TIMER_NONE;
    this.owner.timerFired(kind);
  }
}

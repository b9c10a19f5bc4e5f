/**
 * A client connection's timeouts, all on its one DeadlineTimer re-armed for each phase: the head
 * (slowloris), the body-idle and the keep-alive timeouts, and the linger after the sidecar ended
 * the connection.
 */

/** Longer than the idle timeouts of the load balancers usually in front, so they close first. */
export const KEEP_ALIVE_MS = 65_000;
/** Slowloris guard: the whole request head must arrive within this. */
export const HEAD_TIMEOUT_MS = 15_000;

/** How long an ended connection waits for the client to close its side before it is destroyed. */
export const LINGER_MS = 5_000;

export const TIMER_HEAD = 1;
export const TIMER_BODY = 2;
export const TIMER_KEEP_ALIVE = 3;
export const TIMER_LINGER = 4;

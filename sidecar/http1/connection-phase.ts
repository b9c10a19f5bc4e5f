/**
 * Where a client connection is in its life. One phase at a time, changed only by the connection's
 * `enter()`; what a drain waits for and what it may close at once are read from the phase here.
 */
export type ConnectionPhase =
  /** Between requests (or before the first): no byte of a request yet. */
  | 'idle'
  /** Bytes of a request head arrived; the head is not complete. */
  | 'head'
  /** The head is parsed and admitted (or answered); its body, if any, is being read. */
  | 'body'
  /** The head is parsed and waits for the limiter; nothing more is read. */
  | 'queued'
  /** The request was read whole; its exchange is answering it; parsing waits for it. */
  | 'exchanging'
  /** A 101 turned the connection into a byte pipe to the app. */
  | 'tunnel'
  /** The sidecar ended the connection (its last answer is written); waiting for the client to close. */
  | 'closing'
  | 'closed';

/** The phases each phase may be followed by; any other change is a bug (the unit tests hold to it). */
export const NEXT_PHASES: Readonly<Record<ConnectionPhase, readonly ConnectionPhase[]>> = {
  idle: ['head', 'closing', 'closed'],
  head: ['body', 'queued', 'closing', 'closed'],
  body: ['idle', 'exchanging', 'tunnel', 'closing', 'closed'],
  queued: ['body', 'closing', 'closed'],
  exchanging: ['idle', 'head', 'tunnel', 'closing', 'closed'],
  tunnel: ['closed'],
  closing: ['closed'],
  closed: [],
};

/** A request is in flight or queued: a drain waits for it. */
export function isBusy(phase: ConnectionPhase): boolean {
  return phase === 'body' || phase === 'queued' || phase === 'exchanging';
}

/** No request is in progress (or the connection is ending anyway): a drain closes it at once. */
export function closesOnDrain(phase: ConnectionPhase): boolean {
  return phase === 'idle' || phase === 'head' || phase === 'closing';
}

/** The sidecar or the client ended the connection: nothing more is read or answered. */
export function isEnded(phase: ConnectionPhase): boolean {
  return phase === 'closing' || phase === 'closed';
}

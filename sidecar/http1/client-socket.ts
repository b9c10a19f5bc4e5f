/**
 * A client connection's socket with its one timer and its phase: the only writer of the phase, and
 * the ways the sidecar ends the connection (hang up after a last answer, then linger; destroy).
 */
import type { Socket } from 'node:net';
import type { ConnectionPhase } from './connection-phase.js';
import { LINGER_MS, TIMER_KEEP_ALIVE, TIMER_LINGER } from './connection-timeouts.js';
import { DeadlineTimer, type TimerOwner } from './deadline-timer.js';

export interface ClientSocketOwner {
  phaseChanged(from: ConnectionPhase, to: ConnectionPhase): void;
  /** A timeout other than keep-alive and linger ran out (the head's, the body's). */
  timerFired(kind: number): void;
}

export class ClientSocket implements TimerOwner {
  private current: ConnectionPhase = 'idle';
  readonly timer = new DeadlineTimer(this);

  constructor(readonly socket: Socket, private readonly owner: ClientSocketOwner) {}

  get phase(): ConnectionPhase {
    return this.current;
  }

  /** The only writer of the phase; the owner tells the server, which derives the drain count from it. */
  enter(next: ConnectionPhase): void {
    const previous = this.current;
    if (previous === next || previous === 'closed') return;
    this.current = next;
    this.owner.phaseChanged(previous, next);
  }

  /**
   * Ends the connection after `last` (if any). Reading resumes: a socket paused with bytes in its
   * buffer would never see the client's FIN or reset, and Node destroys it only once both sides
   * ended, so its fd would stay open. The linger timer destroys it if the client never closes.
   */
  hangUp(last?: string): void {
    this.enter('closing');
    const socket = this.socket;
    if (!socket.writable) {
      this.timer.disarm();
      socket.destroy();
      return;
    }
    if (last === undefined) socket.end();
    else socket.end(last, 'latin1');
    socket.resume();
    this.timer.arm(TIMER_LINGER, LINGER_MS);
  }

  /** Destroyed without a word: the client's request or the app's response broke off. */
  destroy(): void {
    this.enter('closing');
    this.timer.disarm();
    this.socket.destroy();
  }

  timerFired(kind: number): void {
    if (kind === TIMER_KEEP_ALIVE || kind === TIMER_LINGER) {
      this.enter('closing');
      this.socket.destroy();
    } else {
      this.owner.timerFired(kind);
    }
  }
}

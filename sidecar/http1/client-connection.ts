/**
 * One client connection as its server sees it: the socket accepted, its events attached, its phase
 * (connection-phase.ts, written by enter() alone) told to the server, the head (slowloris) and
 * keep-alive timeouts armed, and the socket let go when it becomes a tunnel. Its bytes go to one
 * request parser, reused; the requests on it are client-requests.ts's.
 */
import type { Socket } from 'node:net';
import type { ConnectionHost, HostedConnection } from './connection-host.js';
import { closesOnDrain, isEnded, type ConnectionPhase } from './connection-phase.js';
import { ClientRequests, type RequestsOwner } from './client-requests.js';
import { ClientSocket, type ClientSocketOwner } from './client-socket.js';
import { HEAD_TIMEOUT_MS, TIMER_HEAD, TIMER_KEEP_ALIVE } from './connection-timeouts.js';
import type { RequestReader } from './request-reader.js';
import { attach, detach, type SocketHandlers } from './socket-handlers.js';

export class ClientConnection implements HostedConnection, ClientSocketOwner, RequestsOwner {
  /** The socket, its timer and the phase (`link.enter()` is the phase's only writer). */
  private readonly link: ClientSocket;
  private readonly requests: ClientRequests;
  private readonly reader: RequestReader;

  constructor(private readonly host: ConnectionHost, readonly socket: Socket) {
    this.link = new ClientSocket(socket, this);
    this.requests = new ClientRequests(host, this.link, this, socket.remoteAddress ?? 'unknown');
    this.reader = this.requests.reader;
    socket.setNoDelay(true);
    attach(socket, this.handlers);
    this.link.timer.arm(TIMER_HEAD, HEAD_TIMEOUT_MS);
  }

  get currentPhase(): ConnectionPhase {
    return this.link.phase;
  }

  /** Whether a drain closes the connection at once (no request in progress). */
  get closesOnDrain(): boolean {
    return closesOnDrain(this.link.phase);
  }

  close(): void {
    this.link.hangUp();
  }

  /** The client socket tells of each phase change; the server derives what a drain waits for from them. */
  phaseChanged(from: ConnectionPhase, to: ConnectionPhase): void {
    this.host.phaseChanged(this, from, to);
  }

  timerFired(kind: number): void {
    this.requests.timedOut(kind);
  }

  private readonly onData = (chunk: Buffer): void => {
    const phase = this.link.phase;
    if (isEnded(phase)) return;
    if (phase === 'queued' || phase === 'exchanging') {
      this.reader.hold(chunk);
      return;
    }
    const wasIdle = this.link.timer.kind === TIMER_KEEP_ALIVE;
    if (phase === 'idle') this.link.enter('head');
    this.reader.feed(chunk);
    // A head still incomplete after this read has HEAD_TIMEOUT_MS from its first bytes (slowloris);
    // one that completed re-armed the timer itself, so the usual request costs no timer here.
    if (wasIdle && this.link.phase === 'head' && this.link.timer.kind === TIMER_KEEP_ALIVE) this.link.timer.arm(TIMER_HEAD, HEAD_TIMEOUT_MS);
  };

  leaveForTunnel(): void {
    detach(this.socket, this.handlers);
    // Still the server's until it closes: close() ends tunnels too.
    this.socket.once('close', this.onTunnelClose);
  }

  private readonly onEnd = (): void => {
    this.requests.clientEnded();
  };

  /** A socket error is followed by 'close', where a broken request is counted. */
  private readonly onError = (): void => undefined;

  private readonly onClose = (): void => {
    this.link.timer.cancel();
    this.requests.clientClosed();
    this.host.connectionClosed(this);
  };

  private readonly onDrain = (): void => {
    this.requests.clientDrained();
  };

  private readonly handlers: SocketHandlers = { data: this.onData, end: this.onEnd, error: this.onError, close: this.onClose, drain: this.onDrain };

  private readonly onTunnelClose = (): void => {
    this.link.enter('closed');
    this.host.connectionClosed(this);
  };
}

/**
 * One TCP connection to the app: one request in flight at a time, its response read by
 * upstream-response.ts; handed back to the pool only after a response that ended cleanly (complete,
 * keep-alive, request fully sent, not a byte more). Any framing anomaly destroys it instead. Its one
 * timer runs the connect, response, body-idle and pool-idle timeouts.
 */
import { connect, type Socket } from 'node:net';
import type { Deadlines } from '../core/deadlines.js';
import { BadGatewayError, socketFailure } from '../core/failures.js';
import { DeadlineTimer, type TimerOwner } from './deadline-timer.js';
import { attach, detach, type SocketHandlers } from './socket-handlers.js';
import type { AppLink } from './app-link.js';
import { isSharedReadBuffer, readBufferFor } from './read-buffers.js';
import { UpstreamResponse, type ResponseOwner } from './upstream-response.js';
import type { UpstreamUser } from './upstream-user.js';

export type { UpstreamUser };

/** What the connection needs from its pool. */
export interface ConnectionOwner {
  readonly maxHeaderSize: number;
  release(connection: UpstreamConnection, hintMs: number | undefined): void;
  forget(connection: UpstreamConnection): void;
}

const CRLF = Buffer.from('\r\n', 'latin1');

const TIMER_CONNECT = 1;
const TIMER_RESPONSE = 2;
const TIMER_BODY = 3;
const TIMER_IDLE = 4;

export class UpstreamConnection implements AppLink, ResponseOwner, TimerOwner {
  readonly socket: Socket;
  private readonly response: UpstreamResponse;
  /** The exchange the connection serves; null between requests. */
  user: UpstreamUser | null = null;
  connected = false;
  /** Requests this connection has completed; above 0 it is a reused connection. */
  served = 0;
  /** The request (head and body) was written completely. */
  private requestSent = false;
  private readonly timer = new DeadlineTimer(this);
  private readonly handlers: SocketHandlers;
  private responseMs = 0;
  private bodyIdleMs = 0;
  private lastError: Error | null = null;
  private bodyPaused = false;

  /**
   * `reuseReads`: the socket reads into the process's one reused read buffer (nothing read is kept
   * past the read; no Buffer and no stream machinery per read). A connection that may become a
   * tunnel (an upgrade request) reads as a plain stream, since piping needs 'data' events.
   */
  constructor(private readonly owner: ConnectionOwner, host: string, port: number, reuseReads: boolean) {
    this.response = new UpstreamResponse(this, owner.maxHeaderSize);
    this.socket = connect({ host, port, noDelay: true, onread: reuseReads ? { buffer: this.nextReadBuffer, callback: this.onRead } : undefined });
    this.handlers = { connect: this.onConnect, ...(reuseReads ? {} : { data: this.onData }), end: this.onEnd, error: this.onError, close: this.onClose, drain: this.onDrain };
    attach(this.socket, this.handlers);
  }

  /**
   * Sends a request head for `user`; with a body, the caller then writes it and calls
   * requestComplete(). The response timeout runs from the end of the request.
   */
  start(user: UpstreamUser, head: string | Buffer, withBody: boolean, deadlines: Pick<Deadlines, 'connectMs' | 'responseMs' | 'responseBodyIdleMs'>): void {
    this.user = user;
    this.response.expect();
    this.requestSent = !withBody;
    this.bodyPaused = false;
    this.responseMs = deadlines.responseMs;
    this.bodyIdleMs = deadlines.responseBodyIdleMs;
    if (!this.connected) this.timer.arm(TIMER_CONNECT, deadlines.connectMs);
    else if (this.requestSent) this.timer.arm(TIMER_RESPONSE, deadlines.responseMs);
    this.socket.write(head, 'latin1');
  }

  /**
   * The request's last bytes (`tail`, possibly empty); the response timeout starts once they are
   * flushed. A request without a body was complete with its head, and an empty tail with nothing
   * still buffered is flushed already: neither costs a write.
   */
  requestComplete(tail: Buffer): void {
    if (this.requestSent) return;
    if (tail.length === 0 && this.socket.writableLength === 0) this.onRequestFlushed();
    else this.socket.write(tail, this.onRequestFlushed);
  }

  private readonly onRequestFlushed = (error?: Error | null): void => {
    if (error !== undefined && error !== null) return;
    this.requestSent = true;
    if (this.connected && !this.response.responding && this.user !== null) this.timer.arm(TIMER_RESPONSE, this.responseMs);
  };

  write(data: Buffer | string): boolean {
    return this.socket.write(data);
  }

  /** One chunk (RFC 9112 §7.1): size line, bytes and CRLF in one corked write. */
  writeChunk(piece: Buffer): boolean {
    const socket = this.socket;
    socket.cork();
    socket.write(`${piece.length.toString(16)}\r\n`, 'latin1');
    socket.write(piece);
    const more = socket.write(CRLF);
    socket.uncork();
    return more;
  }

  /** The exchange stopped using the connection before its end (client gone): never reused. */
  abandon(): void {
    this.user = null;
    this.destroy();
  }

  /** Stops reading (the client is slow); the body-idle clock stops too: the app is not stalling. */
  pause(): void {
    this.socket.pause();
    if (this.timer.kind === TIMER_BODY) {
      this.timer.disarm();
      this.bodyPaused = true;
    }
  }

  resume(): void {
    this.socket.resume();
    if (this.bodyPaused) {
      this.bodyPaused = false;
      if (this.user !== null) this.timer.arm(TIMER_BODY, this.bodyIdleMs);
    }
  }

  destroy(): void {
    this.timer.cancel();
    this.socket.destroy();
  }

  /**
   * Idle in the pool until `ms` passes. It reads on: a connection paused for a slow client on the
   * response's last piece would otherwise be reused paused, and the next response never read.
   */
  idleFor(ms: number): void {
    this.bodyPaused = false;
    this.socket.resume();
    this.timer.arm(TIMER_IDLE, ms);
  }

  takeFromPool(): void {
    this.timer.disarm();
  }

  timerFired(kind: number): void {
    switch (kind) {
      case TIMER_CONNECT:
        this.fail(new BadGatewayError('connect-timeout', 'connect timeout'));
        return;
      case TIMER_RESPONSE:
        this.fail(new BadGatewayError('response-timeout', 'no response head in time'));
        return;
      case TIMER_BODY:
        this.fail(new BadGatewayError('body-timeout', 'response body stalled'));
        return;
      case TIMER_IDLE:
        this.socket.destroy();
        return;
    }
  }

  fail(error: BadGatewayError): void {
    const user = this.user;
    this.user = null;
    this.destroy();
    if (user !== null) user.onUpstreamError(error, this.response.received > 0);
  }

  private readonly onConnect = (): void => {
    this.connected = true;
    if (this.timer.kind !== TIMER_CONNECT) return;
    if (this.requestSent) this.timer.arm(TIMER_RESPONSE, this.responseMs);
    else this.timer.disarm();
  };

  /** Called by Node after each read: where the next read goes. */
  private readonly nextReadBuffer = (): Uint8Array => {
    return readBufferFor(this.response.bodyLeft);
  };

  private readonly onRead = (length: number, buffer: Uint8Array): boolean => {
    this.receive(buffer as Buffer, length, !isSharedReadBuffer(buffer));
    return true; // go on reading: pause() stops it when the client is slow
  };

  /** A connection that may become a tunnel reads as a stream. */
  private readonly onData = (chunk: Buffer): void => {
    this.receive(chunk, chunk.length, true);
  };

  /** The first `length` bytes of `chunk`; `owned`: it is a buffer read for it alone (not the shared read buffer). */
  private receive(chunk: Buffer, length: number, owned: boolean): void {
    if (this.user === null) {
      // Bytes nobody asked for: the connection's framing can no longer be trusted.
      this.destroy();
      return;
    }
    this.response.read(chunk, length, owned);
  }

  // ResponseOwner

  responseStarted(): void {
    if (this.bodyIdleMs > 0) this.timer.arm(TIMER_BODY, this.bodyIdleMs);
    else this.timer.disarm();
  }

  bodyArrived(): void {
    this.timer.restart();
  }

  finishResponse(reusable: boolean): void {
    const user = this.user as UpstreamUser;
    this.user = null;
    this.timer.disarm();
    this.served += 1;
    if (reusable && this.requestSent) {
      this.owner.release(this, this.response.next());
    } else {
      this.destroy();
    }
    user.onResponseEnd();
  }

  handOver(rest: Buffer): void {
    const user = this.user as UpstreamUser;
    this.user = null;
    this.timer.disarm();
    detach(this.socket, this.handlers);
    this.response.close();
    this.owner.forget(this);
    user.onUpgrade(this.socket, rest);
  }

  private readonly onEnd = (): void => {
    if (this.user === null) return;
    if (this.response.completesAtEnd()) {
      this.finishResponse(false);
      return;
    }
    this.fail(new BadGatewayError('reset', this.response.received > 0 ? 'closed mid-response' : 'closed before responding'));
  };

  private readonly onError = (error: Error): void => {
    this.lastError = error;
  };

  private readonly onClose = (): void => {
    this.timer.cancel();
    this.response.close();
    this.owner.forget(this);
    if (this.user !== null) {
      this.fail(this.lastError === null
        ? new BadGatewayError('reset', 'connection closed')
        : socketFailure(this.lastError));
    }
  };

  private readonly onDrain = (): void => {
    this.user?.onUpstreamDrain();
  };
}

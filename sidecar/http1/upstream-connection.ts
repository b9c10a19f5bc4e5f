/**
 * One TCP connection to the app with its response parser: one request in flight at a time, handed
 * back to the pool only after a response that ended cleanly (complete, keep-alive, request fully
 * sent, not a byte more). Any framing anomaly destroys it instead.
 */
import { connect, type Socket } from 'node:net';
import type { Deadlines } from '../core/deadlines.js';
import { BadGatewayError, socketFailure } from '../core/failures.js';
import { countableContentLength, keepAliveHintMs } from './heads.js';
import { DeadlineTimer, type TimerOwner } from './deadline-timer.js';
import { attach, detach, type SocketHandlers } from './socket-handlers.js';
import { ERROR_OK, ERROR_PAUSED, ERROR_PAUSED_UPGRADE, HEAD_BODY, HEAD_NO_BODY, HttpParser, RESPONSE, type ParserSink } from './llhttp.js';
import type { AppLink } from './app-link.js';
import { isSharedReadBuffer, readBufferFor } from './read-buffers.js';
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

export class UpstreamConnection implements AppLink, ParserSink, TimerOwner {
  readonly socket: Socket;
  private readonly parser: HttpParser;
  private user: UpstreamUser | null = null;
  connected = false;
  /** Requests this connection has completed; above 0 it is a reused connection. */
  served = 0;
  private received = 0;
  /** The request (head and body) was written completely. */
  private requestSent = false;
  /** The final response head arrived. */
  private responding = false;
  private interim = false;
  private upgrading = false;
  private done = false;
  private readonly timer = new DeadlineTimer(this);
  private readonly handlers: SocketHandlers;
  private responseMs = 0;
  private bodyIdleMs = 0;
  private lastError: Error | null = null;
  private bodyPaused = false;
  /**
   * Bytes of a Content-Length body still to come. They are counted here, not by the parser: no
   * copy into WebAssembly memory, and large ones are read into buffers of their own.
   */
  private bodyLeft = 0;

  /**
   * `reuseReads`: the socket reads into the process's one reused read buffer (nothing read is kept
   * past the read; no Buffer and no stream machinery per read). A connection that may become a
   * tunnel (an upgrade request) reads as a plain stream, since piping needs 'data' events.
   */
  constructor(private readonly owner: ConnectionOwner, host: string, port: number, reuseReads: boolean) {
    this.parser = new HttpParser(RESPONSE, this, owner.maxHeaderSize);
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
    this.received = 0;
    this.requestSent = !withBody;
    this.responding = false;
    this.bodyPaused = false;
    this.done = false;
    this.bodyLeft = 0;
    this.interim = false;
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
    if (this.connected && !this.responding && this.user !== null) this.timer.arm(TIMER_RESPONSE, this.responseMs);
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

  private fail(error: BadGatewayError): void {
    const user = this.user;
    this.user = null;
    this.destroy();
    if (user !== null) user.onUpstreamError(error, this.received > 0);
  }

  private readonly onConnect = (): void => {
    this.connected = true;
    if (this.timer.kind !== TIMER_CONNECT) return;
    if (this.requestSent) this.timer.arm(TIMER_RESPONSE, this.responseMs);
    else this.timer.disarm();
  };

  /** Called by Node after each read: where the next read goes. */
  private readonly nextReadBuffer = (): Uint8Array => {
    return readBufferFor(this.bodyLeft);
  };

  private readonly onRead = (length: number, buffer: Uint8Array): boolean => {
    this.onData((buffer as Buffer).subarray(0, length), !isSharedReadBuffer(buffer));
    return true; // go on reading: pause() stops it when the client is slow
  };

  /** `owned`: the chunk lies in a buffer read for it alone (not the shared read buffer). */
  private readonly onData = (chunk: Buffer, owned = true): void => {
    if (this.user === null) {
      // Bytes nobody asked for: the connection's framing can no longer be trusted.
      this.destroy();
      return;
    }
    this.received += chunk.length;
    if (this.bodyLeft > 0) {
      this.countBody(chunk, owned);
      return;
    }
    const result = this.parser.execute(chunk);
    if (this.user === null) return;
    if (result === ERROR_OK) {
      this.user.onChunkParsed();
      return;
    }
    if (result === ERROR_PAUSED && this.bodyLeft > 0) {
      this.countBody(chunk.subarray(this.parser.consumed), owned);
      return;
    }
    if (result === ERROR_PAUSED && this.done) {
      this.finishResponse(this.parser.consumed === chunk.length && this.parser.keepAlive);
      return;
    }
    if (result === ERROR_PAUSED_UPGRADE && this.upgrading) {
      this.handOver(Buffer.from(chunk.subarray(this.parser.consumed)));
      return;
    }
    this.fail(new BadGatewayError('invalid-response', `${this.parser.errorCode}: ${this.parser.errorReason}`));
  };

  /** Body bytes of a counted Content-Length body; any byte beyond it means the app is not to be trusted. */
  private countBody(bytes: Buffer, owned: boolean): void {
    const user = this.user as UpstreamUser;
    if (bytes.length === 0) {
      user.onChunkParsed();
      return;
    }
    const left = this.bodyLeft;
    const piece = bytes.length <= left ? bytes : bytes.subarray(0, left);
    this.bodyLeft = left - piece.length;
    this.timer.restart();
    user.onResponseBody(piece, owned);
    if (this.user === null || this.bodyLeft > 0) return;
    this.done = true;
    this.finishResponse(piece.length === bytes.length && this.parser.keepAlive);
  }

  private finishResponse(reusable: boolean): void {
    const user = this.user as UpstreamUser;
    this.user = null;
    this.timer.disarm();
    this.served += 1;
    if (reusable && this.requestSent) {
      this.parser.resume();
      this.owner.release(this, keepAliveHintMs(this.parser.fields));
    } else {
      this.destroy();
    }
    user.onResponseEnd();
  }

  private handOver(rest: Buffer): void {
    const user = this.user as UpstreamUser;
    this.user = null;
    this.timer.disarm();
    detach(this.socket, this.handlers);
    this.parser.close();
    this.owner.forget(this);
    user.onUpgrade(this.socket, rest);
  }

  private readonly onEnd = (): void => {
    if (this.user === null) return;
    if (this.received > 0 && !this.done && this.bodyLeft === 0) {
      const result = this.parser.finish();
      if ((result === ERROR_OK || result === ERROR_PAUSED) && this.done) {
        this.finishResponse(false);
        return;
      }
    }
    this.fail(new BadGatewayError('reset', this.received > 0 ? 'closed mid-response' : 'closed before responding'));
  };

  private readonly onError = (error: Error): void => {
    this.lastError = error;
  };

  private readonly onClose = (): void => {
    this.timer.cancel();
    this.parser.close();
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

  // ParserSink: called from inside parser.execute.

  onHead(parser: HttpParser): number {
    const user = this.user;
    if (user === null) return -1;
    // llhttp also frames `HTTP/2.0 200` and `HTTP/0.9 200`: not an HTTP/1.x app's answer.
    if (parser.versionMajor !== 1) return -1;
    const status = parser.statusCode;
    if (status >= 100 && status < 200 && status !== 101) {
      this.interim = true;
      return user.onInterim(parser) ? 0 : -1;
    }
    const answer = user.onResponseHead(parser);
    if (answer < 0) return -1;
    this.upgrading = status === 101;
    this.responding = true;
    if (this.bodyIdleMs > 0) this.timer.arm(TIMER_BODY, this.bodyIdleMs);
    else this.timer.disarm();
    // A Content-Length body is counted by us (the parser is told there is none and pauses at its
    // end); 204 and 304 have no body whatever their Content-Length says.
    if (answer === HEAD_BODY && status !== 101 && status !== 204 && status !== 304) {
      const length = countableContentLength(parser.fields);
      if (length > 0) {
        this.bodyLeft = length;
        return HEAD_NO_BODY;
      }
    }
    return answer;
  }

  onBody(piece: Buffer): void {
    this.timer.restart();
    this.user?.onResponseBody(piece, false);
  }

  onMessageComplete(): number {
    if (this.interim) {
      this.interim = false;
      return 0;
    }
    if (this.upgrading) return 0;
    if (this.bodyLeft > 0) return ERROR_PAUSED; // the counted body follows
    this.done = true;
    return ERROR_PAUSED;
  }
}

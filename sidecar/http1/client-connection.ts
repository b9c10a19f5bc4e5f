/**
 * One client connection: one request parser, reused; pipelined requests answered in order, one
 * exchange at a time (parsing pauses after each request until its response is written); the head
 * (slowloris), body-idle and keep-alive timeouts; requests that must not be forwarded answered here.
 * Where the connection is in its life is its phase (connection-phase.ts), written by enter() alone.
 */
import type { Socket } from 'node:net';
import type { Breaker, BreakerTicket } from '../breaker.js';
import type { AnswerWithoutAppKind } from '../core/admission.js';
import type { Reason } from '../contracts.js';
import type { Permit } from '../overload/limiter.js';
import { answerWithoutApp } from './answer-without-app.js';
import { clientErrorResponse } from './answers.js';
import type { ConnectionHost, HostedConnection } from './connection-host.js';
import { closesOnDrain, isBusy, isEnded, type ConnectionPhase } from './connection-phase.js';
import { HEAD_TIMEOUT_MS, KEEP_ALIVE_MS, LINGER_MS, TIMER_BODY, TIMER_HEAD, TIMER_KEEP_ALIVE, TIMER_LINGER } from './connection-timeouts.js';
import { DeadlineTimer, type TimerOwner } from './deadline-timer.js';
import { Exchange, type ExchangeClient, type ExchangeRequest } from './exchange.js';
import { headerValue, requestIdOf } from './heads.js';
import { ERROR_OK, ERROR_PAUSED, ERROR_PAUSED_UPGRADE, HEAD_BODY, HttpParser, REQUEST, type ParserSink } from './llhttp.js';
import { QueuedRequest, type QueueOwner } from './queued-request.js';
import { intake } from './request-intake.js';
import { attach, detach, type SocketHandlers } from './socket-handlers.js';
import type { RouteState } from './route-state.js';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const NO_BYTES = Buffer.alloc(0);

export class ClientConnection implements HostedConnection, ParserSink, ExchangeClient, TimerOwner, QueueOwner {
  private readonly parser: HttpParser;
  private readonly clientAddress: string;
  private phase: ConnectionPhase = 'idle';
  private exchange: Exchange | null = null;
  private requestId = '';
  http10 = false;
  keepAlive = true;
  /** Bytes read while parsing waits (queued, exchanging), parsed when it goes on. */
  private leftover: Buffer | null = null;
  private readonly timer = new DeadlineTimer(this);
  private bodyIdleMs = 0;
  private bodyPaused = false;
  /** Set while the request waits for the limiter; the parser is paused after its head. */
  private queued: QueuedRequest | null = null;

  constructor(private readonly host: ConnectionHost, readonly socket: Socket) {
    this.parser = new HttpParser(REQUEST, this, host.maxHeaderSize);
    this.clientAddress = socket.remoteAddress ?? 'unknown';
    socket.setNoDelay(true);
    attach(socket, this.handlers);
    this.timer.arm(TIMER_HEAD, HEAD_TIMEOUT_MS);
  }

  get currentPhase(): ConnectionPhase {
    return this.phase;
  }

  /** Whether a drain closes the connection at once (no request in progress). */
  get closesOnDrain(): boolean {
    return closesOnDrain(this.phase);
  }

  /** The only writer of `phase`; the host derives what a drain waits for from the changes. */
  private enter(next: ConnectionPhase): void {
    const previous = this.phase;
    if (previous === next || previous === 'closed') return;
    this.phase = next;
    this.host.phaseChanged(this, previous, next);
  }

  close(): void {
    this.hangUp();
  }

  /**
   * Ends the connection after `last` (if any). Reading resumes: a socket paused with bytes in its
   * buffer would never see the client's FIN or reset, and Node destroys it only once both sides
   * ended, so its fd would stay open. The linger timer destroys it if the client never closes.
   */
  private hangUp(last?: string): void {
    this.enter('closing');
    this.leftover = null;
    if (!this.socket.writable) {
      this.timer.disarm();
      this.socket.destroy();
      return;
    }
    if (last === undefined) this.socket.end();
    else this.socket.end(last, 'latin1');
    this.socket.resume();
    this.timer.arm(TIMER_LINGER, LINGER_MS);
  }

  /** Destroyed without a word: the client's request or the app's response broke off. */
  private destroy(): void {
    this.enter('closing');
    this.timer.disarm();
    this.socket.destroy();
  }

  timerFired(kind: number): void {
    if (kind === TIMER_KEEP_ALIVE || kind === TIMER_LINGER) {
      this.enter('closing');
      this.socket.destroy();
    } else if (kind === TIMER_HEAD) {
      this.host.clientError('header-timeout', {});
      this.refuse(408, requestIdOf(undefined), 'client-timeout');
    } else if (kind === TIMER_BODY) {
      this.host.clientError('body-timeout', { requestId: this.requestId });
      this.abortExchange('client-timeout', 408);
    }
  }

  /** Answers a request the sidecar will not forward, then closes. */
  private refuse(status: number, requestId: string, reason: Reason): void {
    this.host.metrics.request(status, reason);
    this.hangUp(clientErrorResponse(status, requestId));
  }

  /**
   * The client broke its request mid-body (malformed chunk, stall): the app's connection is
   * aborted, never counted against it; the client gets `status` unless the app already answered.
   */
  private abortExchange(reason: Reason, status: number): void {
    const exchange = this.exchange;
    this.exchange = null;
    if (exchange === null) {
      this.refuse(status, requestIdOf(undefined), reason);
    } else if (!exchange.hasAnswered()) {
      exchange.clientGone({ status, reason });
      this.hangUp(clientErrorResponse(status, this.requestId));
    } else {
      exchange.clientGone({ status: exchange.answeredStatus(), reason });
      this.destroy();
    }
  }

  private readonly onData = (chunk: Buffer): void => {
    const phase = this.phase;
    if (isEnded(phase)) return;
    if (phase === 'queued' || phase === 'exchanging') {
      this.leftover = this.leftover === null ? chunk : Buffer.concat([this.leftover, chunk]);
      this.socket.pause();
      return;
    }
    const wasIdle = this.timer.kind === TIMER_KEEP_ALIVE;
    if (phase === 'idle') this.enter('head');
    this.feed(chunk);
    // A head still incomplete after this read has HEAD_TIMEOUT_MS from its first bytes (slowloris);
    // one that completed re-armed the timer itself, so the usual request costs no timer here.
    if (wasIdle && this.phase === 'head' && this.timer.kind === TIMER_KEEP_ALIVE) this.timer.arm(TIMER_HEAD, HEAD_TIMEOUT_MS);
  };

  private feed(chunk: Buffer): void {
    const result = this.parser.execute(chunk);
    if (result === ERROR_OK) return;
    if (isEnded(this.phase)) return;
    if (result !== ERROR_PAUSED && result !== ERROR_PAUSED_UPGRADE) {
      this.malformed();
      return;
    }
    const rest = chunk.subarray(this.parser.consumed);
    if (this.queued !== null) {
      // Paused after a queued request's head: more bytes (its body) wait in the socket. With
      // none, reading goes on, so a client that leaves is seen (and leaves the queue) at once.
      if (rest.length > 0) {
        this.leftover = rest;
        this.socket.pause();
      }
      return;
    }
    if (this.exchange === null) {
      if (result === ERROR_PAUSED_UPGRADE) {
        this.close(); // an upgrade request answered here (open circuit)
        return;
      }
      // The request was answered while it was parsed: go on with the next one.
      this.parser.resume();
      if (rest.length > 0) this.feed(rest);
      return;
    }
    if (rest.length > 0) this.leftover = rest;
    this.socket.pause();
  }

  private malformed(): void {
    const code = this.parser.errorCode;
    this.host.clientError('malformed', { code, reason: this.parser.errorReason });
    this.abortExchange('client-refused', code === 'HPE_HEADER_OVERFLOW' ? 431 : 400);
  }

  // ParserSink: called from inside parser.execute.

  onHead(parser: HttpParser): number {
    if (isEnded(this.phase)) return -1;
    const state = this.host.routeState();
    const head = intake(this.host, state, parser, this.clientAddress);
    this.requestId = head.requestId;
    this.http10 = head.http10;
    this.keepAlive = parser.keepAlive && !this.host.isDraining();
    if (head.verdict === 'refuse') {
      this.refuse(head.status, head.requestId, 'client-refused');
      return -1;
    }
    this.bodyPaused = false;
    this.bodyIdleMs = state.deadlines.requestBodyIdleMs;
    if (head.hasBody) this.timer.arm(TIMER_BODY, this.bodyIdleMs);
    else this.timer.disarm();
    if (head.verdict === 'answer') {
      this.enter('body');
      // A body that was never asked for (or is still to come) is not read: the connection closes.
      if (head.bodyUnread) this.keepAlive = false;
      this.answerWithoutApp(state, head.kind, parser.method, parser.target, headerValue(parser.headers, 'accept'), head.requestId, head.traceId);
      return isEnded(this.phase) ? -1 : HEAD_BODY;
    }
    if (head.verdict === 'wait') {
      // No body is read and no 100 Continue sent before the limiter admits the request.
      const queued = new QueuedRequest(this, this.breaker, head.request, head.bodyUnread);
      this.queued = queued;
      this.timer.disarm();
      this.enter('queued');
      this.host.limiter.enqueue(queued);
      return ERROR_PAUSED;
    }
    this.enter('body');
    this.startExchange(state, head.request, head.ticket, head.permit);
    return HEAD_BODY;
  }

  private startExchange(state: RouteState, request: ExchangeRequest, ticket: BreakerTicket, permit: Permit): void {
    const exchange = new Exchange(this.host, this, state, request, ticket, permit);
    this.exchange = exchange;
    if (request.expectContinue) this.socket.write(CONTINUE, 'latin1');
    exchange.start();
  }

  private answerWithoutApp(state: RouteState, kind: AnswerWithoutAppKind, method: string, path: string, accept: string | undefined, requestId: string, traceId: string | undefined): void {
    const close = !this.keepAlive;
    answerWithoutApp(this.host, this.socket, state, kind, method, path, accept, requestId, traceId, close);
    if (close) this.hangUp();
  }

  // QueueOwner: the limiter's verdict on the queued request, in a later turn (queued-request.ts says why).

  private readonly breaker = (): Breaker => this.host.routeState().breaker;

  startQueued(queued: QueuedRequest, ticket: BreakerTicket, permit: Permit): void {
    this.queued = null;
    const request = queued.request;
    this.enter('body');
    this.startExchange(this.host.routeState(), request, ticket, permit);
    if (request.hasBody) this.timer.arm(TIMER_BODY, this.bodyIdleMs);
    this.resumeParsing();
  }

  answerQueued(queued: QueuedRequest, kind: AnswerWithoutAppKind): void {
    this.queued = null;
    if (isEnded(this.phase) || this.socket.destroyed) return;
    this.enter('body');
    const request = queued.request;
    if (queued.bodyUnread) this.keepAlive = false;
    this.answerWithoutApp(this.host.routeState(), kind, request.method, request.target, request.accept, request.requestId, request.traceId);
    if (!isEnded(this.phase)) this.resumeParsing();
  }

  /** Parsing goes on after the head the queue held: the body, then the next request. */
  private resumeParsing(): void {
    this.parser.resume();
    const rest = this.leftover;
    this.leftover = null;
    this.socket.resume();
    // Even with no new bytes: a request without a body completes only when the parser runs on.
    this.feed(rest ?? NO_BYTES);
  }

  onBody(piece: Buffer): void {
    if (this.timer.kind === TIMER_BODY) this.timer.restart();
    const exchange = this.exchange;
    if (exchange !== null && !exchange.requestBody(piece)) {
      // The app reads slowly: stop reading the client, and its body-idle clock with it.
      this.socket.pause();
      if (this.timer.kind === TIMER_BODY) this.timer.disarm();
      this.bodyPaused = true;
    }
  }

  onMessageComplete(): number {
    if (this.timer.kind === TIMER_BODY) this.timer.disarm();
    const exchange = this.exchange;
    if (exchange !== null) {
      exchange.requestEnd();
      if (this.exchange !== null) {
        this.enter('exchanging');
        return ERROR_PAUSED;
      }
    }
    if (isEnded(this.phase)) {
      this.hangUp();
      return ERROR_PAUSED;
    }
    this.enter('idle');
    this.timer.arm(TIMER_KEEP_ALIVE, KEEP_ALIVE_MS);
    return ERROR_OK;
  }

  // ExchangeClient

  exchangeFinished(close: boolean): void {
    this.exchange = null;
    if (close || this.phase === 'body' || !this.keepAlive || this.host.isDraining()) {
      this.hangUp();
      return;
    }
    if (this.phase !== 'exchanging') return;
    this.parser.resume();
    const rest = this.leftover;
    this.leftover = null;
    this.enter(rest === null ? 'idle' : 'head');
    this.timer.arm(rest === null ? TIMER_KEEP_ALIVE : TIMER_HEAD, rest === null ? KEEP_ALIVE_MS : HEAD_TIMEOUT_MS);
    this.socket.resume();
    if (rest !== null) this.feed(rest);
  }

  /**
   * The app's response broke off after its head was sent. The phase stays until the socket's
   * 'close', which counts it as a client connection 'reset' as it always has (issue 33 names it).
   */
  abort(): void {
    this.socket.destroy();
  }

  resumeReading(): void {
    const phase = this.phase;
    if (phase === 'queued' || phase === 'exchanging' || isEnded(phase)) return;
    this.socket.resume();
    if (this.bodyPaused) {
      this.bodyPaused = false;
      if (phase === 'body') this.timer.arm(TIMER_BODY, this.bodyIdleMs);
    }
  }

  takeForTunnel(): Buffer | null {
    this.enter('tunnel');
    this.exchange = null;
    this.timer.cancel();
    detach(this.socket, this.handlers);
    this.parser.close();
    // Still the server's until it closes: close() ends tunnels too.
    this.socket.once('close', this.onTunnelClose);
    this.socket.resume();
    const rest = this.leftover;
    this.leftover = null;
    return rest;
  }

  private readonly onEnd = (): void => {
    const phase = this.phase;
    if (isEnded(phase)) return;
    if (phase === 'head' || phase === 'body' || phase === 'queued') {
      // Gone mid-request: the rest can never arrive, and the app's connection is aborted (a
      // request still waiting for the limiter is abandoned, as nginx treats a client's FIN).
      this.host.clientError('reset', { requestId: this.requestId });
      const exchange = this.exchange;
      this.exchange = null;
      this.destroy();
      exchange?.clientGone();
      return;
    }
    // The client sent everything it will send; answer what is in flight, then close.
    if (phase === 'idle') this.close();
    else this.keepAlive = false;
  };

  /** A socket error is followed by 'close', where a broken request is counted. */
  private readonly onError = (): void => undefined;

  private readonly onClose = (): void => {
    this.timer.cancel();
    const queued = this.queued;
    if (queued !== null) {
      this.queued = null;
      queued.leave(this.host.limiter);
    }
    const phase = this.phase;
    if (phase === 'head' || isBusy(phase)) this.host.clientError('reset', { requestId: this.requestId });
    const exchange = this.exchange;
    this.exchange = null;
    this.enter('closed');
    exchange?.clientGone();
    this.parser.close();
    this.host.connectionClosed(this);
  };

  private readonly onDrain = (): void => {
    this.exchange?.onClientDrain();
  };

  private readonly handlers: SocketHandlers = { data: this.onData, end: this.onEnd, error: this.onError, close: this.onClose, drain: this.onDrain };

  private readonly onTunnelClose = (): void => {
    this.enter('closed');
    this.host.connectionClosed(this);
  };
}

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
import type { TrustedProxies } from '../trusted-proxies.js';
import { answerWithoutApp } from './answer-without-app.js';
import { clientErrorResponse } from './answers.js';
import type { ConnectionHost, HostedConnection } from './connection-host.js';
import { closesOnDrain, isBusy, isEnded, type ConnectionPhase } from './connection-phase.js';
import { ClientSocket, type ClientSocketOwner } from './client-socket.js';
import { HEAD_TIMEOUT_MS, KEEP_ALIVE_MS, TIMER_BODY, TIMER_HEAD, TIMER_KEEP_ALIVE } from './connection-timeouts.js';
import { Exchange, type ExchangeClient, type ExchangeRequest } from './exchange.js';
import { fieldValue } from './head-fields.js';
import { requestIdOf } from './heads.js';
import { ERROR_OK, ERROR_PAUSED, HEAD_BODY, type HttpParser } from './llhttp.js';
import { parserRefusalStatus } from './parser-refusal.js';
import { QueuedRequest, type QueueOwner } from './queued-request.js';
import { intake } from './request-intake.js';
import { RequestReader, type ReaderOwner } from './request-reader.js';
import { attach, detach, type SocketHandlers } from './socket-handlers.js';
import type { RouteState } from './route-state.js';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const NO_BYTES = Buffer.alloc(0);

export class ClientConnection implements HostedConnection, ClientSocketOwner, ReaderOwner, ExchangeClient, QueueOwner {
  private readonly reader: RequestReader;
  private readonly clientAddress: string;
  /** The socket, its timer and the phase (`link.enter()` is the phase's only writer). */
  private readonly link: ClientSocket;
  private exchange: Exchange | null = null;
  private requestId = '';
  http10 = false;
  keepAlive = true;
  private bodyIdleMs = 0;
  private bodyPaused = false;
  /** Set while the request waits for the limiter; the parser is paused after its head. */
  private queued: QueuedRequest | null = null;
  /** Whether the peer is a trusted proxy, as `trustedBy` says (asked again after a reload). */
  private trustedBy: TrustedProxies | null = null;
  private trustedPeer = false;

  constructor(private readonly host: ConnectionHost, readonly socket: Socket) {
    this.link = new ClientSocket(socket, this);
    this.reader = new RequestReader(this.link, this, host.maxHeaderSize);
    this.clientAddress = socket.remoteAddress ?? 'unknown';
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
    if (kind === TIMER_HEAD) {
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
    this.link.hangUp(clientErrorResponse(status, requestId));
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
      this.link.hangUp(clientErrorResponse(status, this.requestId));
    } else {
      exchange.clientGone({ status: exchange.answeredStatus(), reason });
      this.link.destroy();
    }
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

  malformed(parser: HttpParser, chunk: Buffer): void {
    this.host.clientError('malformed', { code: parser.errorCode, reason: parser.errorReason });
    this.abortExchange('client-refused', parserRefusalStatus(parser, chunk));
  }

  // ParserSink: called from inside parser.execute.

  onHead(parser: HttpParser): number {
    if (isEnded(this.link.phase)) return -1;
    const state = this.host.routeState();
    if (this.trustedBy !== state.trustedProxies) {
      this.trustedBy = state.trustedProxies;
      this.trustedPeer = state.trustedProxies.trusts(this.clientAddress);
    }
    const head = intake(this.host, state, parser, this.clientAddress, this.trustedPeer);
    this.requestId = head.requestId;
    this.http10 = head.http10;
    this.keepAlive = parser.keepAlive && !this.host.isDraining();
    if (head.verdict === 'refuse') {
      this.refuse(head.status, head.requestId, 'client-refused');
      return -1;
    }
    this.bodyPaused = false;
    this.bodyIdleMs = state.deadlines.requestBodyIdleMs;
    if (head.hasBody) this.link.timer.arm(TIMER_BODY, this.bodyIdleMs);
    else this.link.timer.disarm();
    if (head.verdict === 'answer') {
      this.link.enter('body');
      // A body that was never asked for (or is still to come) is not read: the connection closes.
      if (head.bodyUnread) this.keepAlive = false;
      this.answerWithoutApp(state, head.kind, parser.method, parser.target, fieldValue(parser.fields, 'accept'), head.requestId, head.traceId);
      return isEnded(this.link.phase) ? -1 : HEAD_BODY;
    }
    if (head.verdict === 'wait') {
      // No body is read and no 100 Continue sent before the limiter admits the request.
      const queued = new QueuedRequest(this, this.breaker, this.host.limiter, head.request, head.bodyUnread);
      this.queued = queued;
      this.link.timer.disarm();
      this.link.enter('queued');
      this.host.limiter.enqueue(queued);
      return ERROR_PAUSED;
    }
    this.link.enter('body');
    this.startExchange(state, head.request, head.ticket, head.permit);
    return HEAD_BODY;
  }

  private startExchange(state: RouteState, request: ExchangeRequest, ticket: BreakerTicket, permit: Permit): void {
    permit.sending();
    const exchange = new Exchange(this.host, this, state, request, ticket, permit);
    this.exchange = exchange;
    if (request.expectContinue) this.socket.write(CONTINUE, 'latin1');
    exchange.start();
  }

  private answerWithoutApp(state: RouteState, kind: AnswerWithoutAppKind, method: string, path: string, accept: string | undefined, requestId: string, traceId: string | undefined): void {
    const close = !this.keepAlive;
    answerWithoutApp(this.host, this.socket, state, kind, method, path, accept, requestId, traceId, close);
    if (close) this.link.hangUp();
  }

  // QueueOwner: the limiter's verdict on the queued request, in a later turn (queued-request.ts says why).

  private readonly breaker = (): Breaker => this.host.routeState().breaker;

  get ending(): boolean {
    return isEnded(this.link.phase) || this.socket.destroyed;
  }

  startQueued(queued: QueuedRequest, ticket: BreakerTicket, permit: Permit): void {
    this.queued = null;
    const request = queued.request;
    this.link.enter('body');
    this.startExchange(this.host.routeState(), request, ticket, permit);
    if (request.hasBody) this.link.timer.arm(TIMER_BODY, this.bodyIdleMs);
    this.resumeParsing();
  }

  answerQueued(queued: QueuedRequest, kind: AnswerWithoutAppKind): void {
    this.queued = null;
    if (isEnded(this.link.phase) || this.socket.destroyed) return;
    this.link.enter('body');
    const request = queued.request;
    if (queued.bodyUnread) this.keepAlive = false;
    this.answerWithoutApp(this.host.routeState(), kind, request.method, request.target, request.accept, request.requestId, request.traceId);
    if (!isEnded(this.link.phase)) this.resumeParsing();
  }

  /** Parsing goes on after the head the queue held: the body, then the next request. */
  private resumeParsing(): void {
    // Even with no new bytes: a request without a body completes only when the parser runs on.
    this.reader.feed(this.reader.resume() ?? NO_BYTES);
  }

  onBody(piece: Buffer): void {
    if (this.link.timer.kind === TIMER_BODY) this.link.timer.restart();
    const exchange = this.exchange;
    if (exchange !== null && !exchange.requestBody(piece)) {
      // The app reads slowly: stop reading the client, and its body-idle clock with it.
      this.socket.pause();
      if (this.link.timer.kind === TIMER_BODY) this.link.timer.disarm();
      this.bodyPaused = true;
    }
  }

  onMessageComplete(): number {
    if (this.link.timer.kind === TIMER_BODY) this.link.timer.disarm();
    const exchange = this.exchange;
    if (exchange !== null) {
      exchange.requestEnd();
      if (this.exchange !== null) {
        this.link.enter('exchanging');
        return ERROR_PAUSED;
      }
    }
    if (isEnded(this.link.phase)) {
      this.link.hangUp();
      return ERROR_PAUSED;
    }
    this.link.enter('idle');
    this.link.timer.arm(TIMER_KEEP_ALIVE, KEEP_ALIVE_MS);
    return ERROR_OK;
  }

  // ExchangeClient

  exchangeFinished(close: boolean): void {
    this.exchange = null;
    if (close || this.link.phase === 'body' || !this.keepAlive || this.host.isDraining()) {
      this.link.hangUp();
      return;
    }
    if (this.link.phase !== 'exchanging') return;
    const rest = this.reader.resume();
    this.link.enter(rest === null ? 'idle' : 'head');
    this.link.timer.arm(rest === null ? TIMER_KEEP_ALIVE : TIMER_HEAD, rest === null ? KEEP_ALIVE_MS : HEAD_TIMEOUT_MS);
    if (rest !== null) this.reader.feed(rest);
  }

  /**
   * The app's response broke off after its head was sent. The connection is 'closing' at once:
   * nothing the client did, so its 'close' is not counted as a client `reset`.
   */
  abortForApp(): void {
    this.exchange = null;
    this.link.destroy();
  }

  resumeReading(): void {
    const phase = this.link.phase;
    if (phase === 'queued' || phase === 'exchanging' || isEnded(phase)) return;
    this.socket.resume();
    if (this.bodyPaused) {
      this.bodyPaused = false;
      if (phase === 'body') this.link.timer.arm(TIMER_BODY, this.bodyIdleMs);
    }
  }

  takeForTunnel(): Buffer | null {
    this.link.enter('tunnel');
    this.exchange = null;
    this.link.timer.cancel();
    detach(this.socket, this.handlers);
    this.reader.parser.close();
    // Still the server's until it closes: close() ends tunnels too.
    this.socket.once('close', this.onTunnelClose);
    this.socket.resume();
    return this.reader.takeHeld();
  }

  private readonly onEnd = (): void => {
    const phase = this.link.phase;
    if (isEnded(phase)) return;
    if (phase === 'head' || phase === 'body' || phase === 'queued') {
      // Gone mid-request: the rest can never arrive, and the app's connection is aborted (a
      // request still waiting for the limiter is abandoned, as nginx treats a client's FIN).
      this.host.clientError('reset', { requestId: this.requestId });
      const exchange = this.exchange;
      this.exchange = null;
      this.link.destroy();
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
    this.link.timer.cancel();
    const queued = this.queued;
    if (queued !== null) {
      this.queued = null;
      queued.leave();
    }
    const phase = this.link.phase;
    if (phase === 'head' || isBusy(phase)) this.host.clientError('reset', { requestId: this.requestId });
    const exchange = this.exchange;
    this.exchange = null;
    this.link.enter('closed');
    exchange?.clientGone();
    this.reader.parser.close();
    this.host.connectionClosed(this);
  };

  private readonly onDrain = (): void => {
    this.exchange?.onClientDrain();
  };

  private readonly handlers: SocketHandlers = { data: this.onData, end: this.onEnd, error: this.onError, close: this.onClose, drain: this.onDrain };

  private readonly onTunnelClose = (): void => {
    this.link.enter('closed');
    this.host.connectionClosed(this);
  };
}

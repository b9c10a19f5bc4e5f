/**
 * The requests on one client connection, one at a time: each parsed head refused, answered without
 * the app, queued for the limiter or forwarded by an exchange; its body handed on with the body-idle
 * timeout; the next request parsed once the exchange finished (pipelined requests answered in order).
 * How the client's leaving ends the request in progress is decided here too.
 */
import type { Socket } from 'node:net';
import type { Breaker, BreakerTicket } from '../breaker.js';
import type { AnswerWithoutAppKind } from '../core/admission.js';
import type { Reason } from '../contracts.js';
import type { Permit } from '../overload/limiter.js';
import type { TrustedProxies } from '../trusted-proxies.js';
import { answerWithoutApp } from './answer-without-app.js';
import { clientErrorResponse } from './answers.js';
import type { ConnectionHost } from './connection-host.js';
import { isBusy, isEnded } from './connection-phase.js';
import type { ClientSocket } from './client-socket.js';
import { HEAD_TIMEOUT_MS, KEEP_ALIVE_MS, TIMER_BODY, TIMER_HEAD, TIMER_KEEP_ALIVE } from './connection-timeouts.js';
import { Exchange, type ExchangeClient, type ExchangeRequest } from './exchange.js';
import { fieldValue } from './head-fields.js';
import { requestIdOf } from './heads.js';
import { ERROR_OK, ERROR_PAUSED, HEAD_BODY, type HttpParser } from './llhttp.js';
import { parserRefusalStatus } from './parser-refusal.js';
import { QueuedRequest, type QueueOwner } from './queued-request.js';
import { intake } from './request-intake.js';
import { RequestReader, type ReaderOwner } from './request-reader.js';
import type { RouteState } from './route-state.js';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const NO_BYTES = Buffer.alloc(0);

/** What the requests need from their connection. */
export interface RequestsOwner {
  /** A 101 takes the socket out of HTTP: the connection's handlers let go of it. */
  leaveForTunnel(): void;
}

export class ClientRequests implements ReaderOwner, ExchangeClient, QueueOwner {
  readonly reader: RequestReader;
  readonly socket: Socket;
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

  constructor(
    private readonly host: ConnectionHost,
    /** The socket, its timer and the phase (`link.enter()` is the phase's only writer). */
    private readonly link: ClientSocket,
    private readonly owner: RequestsOwner,
    private readonly clientAddress: string,
  ) {
    this.socket = link.socket;
    this.reader = new RequestReader(link, this, host.maxHeaderSize);
  }

  /** The head or the body timeout ran out. */
  timedOut(kind: number): void {
    if (kind === TIMER_HEAD) {
      this.host.clientError('header-timeout', {});
      this.refuse(408, requestIdOf(undefined), 'client-timeout');
    } else if (kind === TIMER_BODY) {
      this.host.clientError('body-timeout', { requestId: this.requestId });
      this.abortExchange('client-timeout', 408);
    }
  }

  /** An upgrade request was answered without the app: the connection ends. */
  close(): void {
    this.link.hangUp();
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
    this.owner.leaveForTunnel();
    this.reader.parser.close();
    this.socket.resume();
    return this.reader.takeHeld();
  }

  // The client's side of the socket.

  /** The client sent its FIN. */
  clientEnded(): void {
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
    if (phase === 'idle') this.link.hangUp();
    else this.keepAlive = false;
  }

  /** The socket closed: a request still queued leaves the queue, one in progress is the client's `reset`. */
  clientClosed(): void {
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
  }

  clientDrained(): void {
    this.exchange?.onClientDrain();
  }
}

/**
 * One client connection: one request parser, reused; pipelined requests answered in order, one
 * exchange at a time (parsing pauses after each request until its response is written); the head
 * (slowloris), body-idle and keep-alive timeouts; requests that must not be forwarded answered here.
 */
import type { Socket } from 'node:net';
import type { BreakerTicket } from '../breaker.js';
import type { Reason } from '../contracts.js';
import { NO_PERMIT, type Permit, type Waiter } from '../overload/limiter.js';
import type { TrustedProxies } from '../trusted-proxies.js';
import { answerWithoutApp, type AnswerWithoutAppReason } from './answer-without-app.js';
import { clientErrorResponse } from './answers.js';
import type { ConnectionHost } from './connection-host.js';
import { ConnectionTimer, HEAD_TIMEOUT_MS, KEEP_ALIVE_MS, LINGER_MS, TIMER_BODY, TIMER_HEAD, TIMER_KEEP_ALIVE, TIMER_LINGER, type TimerOwner } from './connection-timer.js';
import { Exchange, type ExchangeClient, type ExchangeRequest } from './exchange.js';
import { forwardedRequest } from './forwarded-request.js';
import { headerValue, requestIdOf } from './heads.js';
import { ERROR_OK, ERROR_PAUSED, ERROR_PAUSED_UPGRADE, HEAD_BODY, HttpParser, REQUEST, type ParserSink } from './llhttp.js';
import { admitInNextTurn, shedInNextTurn, type QueueOwner, type QueuedRequest } from './queued-request.js';
import { parserRefusalStatus } from './parser-refusal.js';
import { checkRequest, isRefusal } from './request-checks.js';
import type { RouteState } from './route-state.js';
import { traceIdOf } from './trace-context.js';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const NO_BYTES = Buffer.alloc(0);

export class ClientConnection implements ParserSink, ExchangeClient, Waiter, TimerOwner, QueueOwner {
  private readonly parser: HttpParser;
  private readonly clientAddress: string;
  private exchange: Exchange | null = null;
  private requestId = '';
  /** Bytes of a request head arrived and its head is not complete yet. */
  private inHead = false;
  http10 = false;
  keepAlive = true;
  /** Between a request head and the end of its body. */
  private inBody = false;
  /** Parsing is paused until the exchange in flight has answered. */
  private waiting = false;
  private leftover: Buffer | null = null;
  private closing = false;
  private tunnelled = false;
  private readonly timer = new ConnectionTimer(this);
  private bodyIdleMs = 0;
  private bodyPaused = false;
  /** Set while the request waits for the limiter; the parser is paused after its head. */
  private queued: QueuedRequest | null = null;
  /** Whether the peer is a trusted proxy, as `trustedBy` says (asked again after a reload). */
  private trustedBy: TrustedProxies | null = null;
  private trustedPeer = false;

  constructor(private readonly host: ConnectionHost, readonly socket: Socket) {
    this.parser = new HttpParser(REQUEST, this, host.maxHeaderSize);
    this.clientAddress = socket.remoteAddress ?? 'unknown';
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('drain', this.onDrain);
    this.timer.arm(TIMER_HEAD, HEAD_TIMEOUT_MS);
  }

  /** Whether no request is in progress (a drain closes such connections at once). */
  get idle(): boolean {
    return this.exchange === null && !this.inBody && this.leftover === null && !this.tunnelled;
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
    this.closing = true;
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

  timerFired(kind: number): void {
    if (kind === TIMER_KEEP_ALIVE || kind === TIMER_LINGER) {
      this.closing = true;
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
    if (exchange === null || !exchange.hasAnswered()) {
      exchange?.clientGone();
      this.refuse(status, exchange === null ? requestIdOf(undefined) : this.requestId, reason);
      return;
    }
    this.host.metrics.request(exchange.answeredStatus(), reason);
    exchange.clientGone();
    this.closing = true;
    this.timer.disarm();
    this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.closing) return;
    if (this.waiting) {
      this.leftover = this.leftover === null ? chunk : Buffer.concat([this.leftover, chunk]);
      this.socket.pause();
      return;
    }
    const wasIdle = this.timer.kind === TIMER_KEEP_ALIVE;
    if (!this.inBody) this.inHead = true;
    this.feed(chunk);
    // A head still incomplete after this read has HEAD_TIMEOUT_MS from its first bytes (slowloris);
    // one that completed re-armed the timer itself, so the usual request costs no timer here.
    if (wasIdle && this.inHead && this.timer.kind === TIMER_KEEP_ALIVE) this.timer.arm(TIMER_HEAD, HEAD_TIMEOUT_MS);
  };

  private feed(chunk: Buffer): void {
    const result = this.parser.execute(chunk);
    if (result === ERROR_OK) return;
    if (result === ERROR_PAUSED || result === ERROR_PAUSED_UPGRADE) {
      if (this.closing) return;
      if (this.queued !== null) {
        // Paused after a queued request's head: more bytes (its body) wait in the socket. With
        // none, reading goes on, so a client that leaves is seen (and leaves the queue) at once.
        const rest = chunk.subarray(this.parser.consumed);
        if (rest.length > 0) {
          this.leftover = rest;
          this.socket.pause();
        }
        return;
      }
      if (this.exchange === null && result === ERROR_PAUSED_UPGRADE) {
        this.close(); // an upgrade request answered here (open circuit)
        return;
      }
      const rest = chunk.subarray(this.parser.consumed);
      if (this.exchange === null && result === ERROR_PAUSED) {
        // The request was answered while it was parsed (open circuit): go on with the next one.
        this.parser.resume();
        this.waiting = false;
        if (rest.length > 0) this.feed(rest);
        return;
      }
      if (rest.length > 0) this.leftover = rest;
      this.socket.pause();
      return;
    }
    if (this.closing) return;
    this.malformed(chunk);
  }

  /** The parser refused `chunk`'s bytes. */
  private malformed(chunk: Buffer): void {
    this.host.clientError('malformed', { code: this.parser.errorCode, reason: this.parser.errorReason });
    this.abortExchange('client-refused', parserRefusalStatus(this.parser, chunk));
  }

  // ParserSink: called from inside parser.execute.

  onHead(parser: HttpParser): number {
    if (this.closing) return -1;
    this.inHead = false;
    const state = this.host.routeState();
    const headers = parser.headers;
    const requestId = requestIdOf(headerValue(headers, 'x-request-id'));
    const traceId = traceIdOf(headerValue(headers, 'traceparent'));
    this.requestId = requestId;
    this.http10 = parser.versionMajor === 1 && parser.versionMinor === 0;
    this.keepAlive = parser.keepAlive && !this.host.isDraining();
    const checked = checkRequest(parser.method, parser.target, parser.versionMajor, parser.versionMinor, headers);
    if (isRefusal(checked)) {
      // A version the sidecar does not speak is bytes it cannot parse as a request of its own.
      if (checked.status === 505) this.host.clientError('malformed', { detail: checked.detail, requestId });
      if (this.host.accessLog) this.host.logger.info({ method: parser.method, status: checked.status, reason: 'client-refused', detail: checked.detail, requestId }, 'request');
      this.refuse(checked.status, requestId, 'client-refused');
      return -1;
    }
    this.inBody = true;
    this.bodyPaused = false;
    this.bodyIdleMs = state.requestBodyIdleMs;
    if (checked.hasBody) this.timer.arm(TIMER_BODY, state.requestBodyIdleMs);
    else this.timer.disarm();
    const bodyUnread = checked.hasBody || checked.expectContinue;
    if (state.breaker.rejects()) return this.answerAtHead(state, parser, bodyUnread, requestId, traceId, 'circuit-open');
    const upgrade = parser.upgrade && !this.http10;
    // A tunnel's lifetime says nothing about the app's request latency: never limited or counted.
    const admission = upgrade ? NO_PERMIT : this.host.limiter.acquire(parser.target);
    if (admission === 'shed') return this.answerAtHead(state, parser, bodyUnread, requestId, traceId, 'overloaded');
    if (this.trustedBy !== state.trustedProxies) {
      this.trustedBy = state.trustedProxies;
      this.trustedPeer = state.trustedProxies.trusts(this.clientAddress);
    }
    const request = forwardedRequest(parser, checked, this.http10, upgrade, requestId, traceId, this.clientAddress, this.host.upstreamAuthority, this.trustedPeer);
    if (admission === 'wait') {
      // No body is read and no 100 Continue sent before the limiter admits the request.
      this.queued = { request, bodyUnread, permit: null };
      this.timer.disarm();
      this.waiting = true;
      this.host.exchangeStarted(); // a drain waits for it like for a request in flight
      this.host.limiter.enqueue(this);
      return ERROR_PAUSED;
    }
    const ticket = state.breaker.admit();
    if (ticket === null) {
      admission.release();
      return this.answerAtHead(state, parser, bodyUnread, requestId, traceId, 'circuit-open');
    }
    this.host.exchangeStarted();
    this.startExchange(state, request, ticket, admission);
    return HEAD_BODY;
  }

  private startExchange(state: RouteState, request: ExchangeRequest, ticket: BreakerTicket, permit: Permit): void {
    const exchange = new Exchange(this.host, this, state, request, ticket, permit);
    this.exchange = exchange;
    if (request.expectContinue) this.socket.write(CONTINUE, 'latin1');
    exchange.start();
  }

  /** The open circuit's or the limiter's answer, given while the request's head is parsed. */
  private answerAtHead(state: RouteState, parser: HttpParser, bodyUnread: boolean, requestId: string, traceId: string | undefined, reason: AnswerWithoutAppReason): number {
    // A body that was never asked for (or is still to come) is not read: the connection closes.
    if (bodyUnread) this.keepAlive = false;
    this.answerWithoutApp(state, reason, parser.method, parser.target, headerValue(parser.headers, 'accept'), requestId, traceId);
    return this.closing ? -1 : HEAD_BODY;
  }

  private answerWithoutApp(state: RouteState, reason: AnswerWithoutAppReason, method: string, path: string, accept: string | undefined, requestId: string, traceId: string | undefined): void {
    const close = !this.keepAlive;
    answerWithoutApp(this.host, this.socket, state, reason, method, path, accept, requestId, traceId, close);
    if (close) this.hangUp();
  }

  // Waiter: the limiter's verdict on a queued request, acted on in a later turn (queued-request.ts says why).

  granted(permit: Permit): void {
    const queued = this.queued;
    if (queued === null) {
      permit.release();
      return;
    }
    admitInNextTurn(this, queued, permit);
  }

  shed(): void {
    const queued = this.queued;
    if (queued !== null) shedInNextTurn(this, queued);
  }

  /** @internal — from queued-request's next turn. */
  admitQueued(queued: QueuedRequest): void {
    if (this.queued !== queued) return; // the client left meanwhile (onClose released the permit)
    const permit = queued.permit as Permit;
    const state = this.host.routeState();
    const ticket = state.breaker.admit();
    if (ticket === null) {
      permit.release();
      this.settleQueued(queued, 'circuit-open');
      return;
    }
    this.queued = null;
    const request = queued.request;
    this.startExchange(state, request, ticket, permit);
    if (request.hasBody) this.timer.arm(TIMER_BODY, this.bodyIdleMs);
    this.resumeParsing();
  }

  /** @internal — a queued request answered without the app (shed, or the circuit opened while it waited). */
  settleQueued(queued: QueuedRequest, reason: AnswerWithoutAppReason): void {
    if (this.queued !== queued) return;
    this.queued = null;
    this.host.exchangeDone();
    if (this.closing || this.socket.destroyed) return;
    const request = queued.request;
    if (queued.bodyUnread) this.keepAlive = false;
    this.answerWithoutApp(this.host.routeState(), reason, request.method, request.target, request.accept, request.requestId, request.traceId);
    if (!this.closing) this.resumeParsing();
  }

  /** Parsing goes on after the head the queue held: the body, then the next request. */
  private resumeParsing(): void {
    this.waiting = false;
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
    this.inBody = false;
    if (this.timer.kind === TIMER_BODY) this.timer.disarm();
    const exchange = this.exchange;
    if (exchange !== null) {
      exchange.requestEnd();
      if (this.exchange !== null) {
        this.waiting = true;
        return ERROR_PAUSED;
      }
    }
    if (this.closing) {
      this.hangUp();
      return ERROR_PAUSED;
    }
    this.timer.arm(TIMER_KEEP_ALIVE, KEEP_ALIVE_MS);
    return ERROR_OK;
  }

  // ExchangeClient

  exchangeFinished(close: boolean): void {
    this.exchange = null;
    if (close || this.inBody || !this.keepAlive || this.host.isDraining()) {
      this.hangUp();
      return;
    }
    if (!this.waiting) return;
    this.waiting = false;
    this.parser.resume();
    const rest = this.leftover;
    this.leftover = null;
    this.timer.arm(rest === null ? TIMER_KEEP_ALIVE : TIMER_HEAD, rest === null ? KEEP_ALIVE_MS : HEAD_TIMEOUT_MS);
    this.socket.resume();
    if (rest !== null) this.feed(rest);
  }

  abortForApp(): void {
    this.closing = true; // the app broke its response: nothing the client did, so not counted as its reset
    this.exchange = null;
    this.timer.disarm();
    this.socket.destroy();
  }

  resumeReading(): void {
    if (this.waiting || this.closing) return;
    this.socket.resume();
    if (this.bodyPaused) {
      this.bodyPaused = false;
      if (this.inBody) this.timer.arm(TIMER_BODY, this.bodyIdleMs);
    }
  }

  takeForTunnel(): Buffer | null {
    this.tunnelled = true;
    this.exchange = null;
    this.timer.cancel();
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('error', this.onError);
    this.socket.off('close', this.onClose);
    this.socket.off('drain', this.onDrain);
    this.parser.close();
    // Still the server's until it closes: close() ends tunnels too.
    this.socket.once('close', this.onTunnelClose);
    this.socket.resume();
    const rest = this.leftover;
    this.leftover = null;
    return rest;
  }

  private readonly onEnd = (): void => {
    if (this.closing) return;
    if (this.inBody || this.inHead) {
      // Gone mid-request: the rest can never arrive, and the app's connection is aborted.
      this.host.clientError('reset', { requestId: this.requestId });
      this.closing = true;
      const exchange = this.exchange;
      this.exchange = null;
      exchange?.clientGone();
      this.timer.disarm();
      this.socket.destroy();
      return;
    }
    // A request still waiting for the limiter is abandoned, as nginx treats a client's FIN.
    if (this.queued !== null) this.socket.destroy();
    // The client sent everything it will send; answer what is in flight, then close.
    else if (this.exchange === null && !this.waiting) this.close();
    else this.keepAlive = false;
  };

  /** A socket error is followed by 'close', where a broken request is counted. */
  private readonly onError = (): void => undefined;

  private readonly onClose = (): void => {
    this.timer.cancel();
    const queued = this.queued;
    if (queued !== null) {
      // The client left while its request waited: out of the queue, and a grant already made is returned.
      this.queued = null;
      this.host.limiter.cancel(this);
      queued.permit?.release();
      this.host.exchangeDone();
    }
    if (!this.closing && (this.exchange !== null || this.inBody || this.inHead || this.waiting)) this.host.clientError('reset', { requestId: this.requestId });
    const exchange = this.exchange;
    this.exchange = null;
    exchange?.clientGone();
    if (!this.tunnelled) this.parser.close();
    this.host.connectionClosed(this);
  };

  private readonly onDrain = (): void => {
    this.exchange?.onClientDrain();
  };

  private readonly onTunnelClose = (): void => {
    this.host.connectionClosed(this);
  };
}

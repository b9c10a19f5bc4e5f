/**
 * One HTTP/2 client stream: admitted like an HTTP/1.1 request (sidecar/core/admission.ts), forwarded
 * through an AppCall with flow control both ways, ended through ExchangeEnd, and answered by the
 * sidecar itself when the app cannot be — an error page, or for gRPC a Trailers-Only status. After
 * the response head a failure becomes trailers with a gRPC status or a RST_STREAM, never a clean
 * end. `grpc-timeout` is the call's deadline; when it (and not the app's own timeout) runs out, the
 * breaker counts nothing.
 */
import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { admit, admitAfterWait, type Admission, type AnswerWithoutAppKind } from '../core/admission.js';
import { ExchangeEnd, type ExchangeOutcome } from '../core/exchange-end.js';
import { afterResponseHead, BadGatewayError, FAILURES, statusFor, type FailureKind } from '../core/failures.js';
import { isIdempotent, requestIdOf } from '../http1/heads.js';
import { overloadRetryAfter, retryAfterFor, type RouteState } from '../http1/route-state.js';
import { traceIdOf } from '../http1/trace-context.js';
import type { Permit, Waiter } from '../overload/limiter.js';
import { afterSmallRequestBody } from './after-request-body.js';
import { answerStream, grpcStatusFields, type StreamAnswer } from './answers.js';
import type { AppCall, AppCallOwner } from './app-call.js';
import { grpcStatusOf, grpcTimeoutMs, isGrpc } from './grpc.js';
import { trailersFor } from './headers.js';
import type { StreamHost } from './stream-host.js';

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Streams admitted in this turn, forwarded together in the next: one Immediate, not one each. */
let admittedThisTurn: StreamExchange[] = [];

function forwardAdmitted(): void {
  const admitted = admittedThisTurn;
  admittedThisTurn = [];
  for (const exchange of admitted) exchange.forward();
}

function onDeadline(exchange: StreamExchange): void {
  exchange.deadlineExpired();
}

export class StreamExchange implements AppCallOwner, Waiter {
  readonly method: string;
  /** The `:path`, as the access log calls it (ExchangeDescription). */
  readonly target: string;
  readonly requestId: string;
  readonly traceId: string | undefined;
  readonly protocol = 'h2';
  private readonly grpc: boolean;
  private readonly state: RouteState;
  private call: AppCall | null = null;
  private end: ExchangeEnd | null = null;
  /** Counted by the server as work in progress (a drain waits for it): queued or forwarded. */
  private busy = false;
  private queued = false;
  private responded = false;
  private headEnded = false;
  private status = 0;
  private headGrpcStatus: number | undefined;
  private outTrailers: OutgoingHttpHeaders = {};
  private deadline: NodeJS.Timeout | null = null;

  constructor(private readonly host: StreamHost, private readonly stream: ServerHttp2Stream, private readonly headers: IncomingHttpHeaders, private readonly raw: readonly string[]) {
    this.method = one(headers[':method']) ?? 'GET';
    this.target = one(headers[':path']) ?? '/';
    this.requestId = requestIdOf(one(headers['x-request-id']));
    this.traceId = traceIdOf(one(headers.traceparent));
    this.grpc = isGrpc(one(headers['content-type']));
    this.state = host.routeState();
    stream.on('error', ignore); // a broken stream ends in 'close', where it is handled
    stream.on('close', this.onClose); // emitted once: no once() wrapper
    stream.on('wantTrailers', this.onWantTrailers);
  }

  begin(): void {
    if (this.method === 'CONNECT') return this.refuse(501);
    this.admitted(admit(this.state.breaker, this.host.limiter, this.target, false));
  }

  private admitted(admission: Admission): void {
    if (admission.verdict === 'answer') return this.answerWithoutApp(admission.kind);
    this.setBusy(true);
    if (admission.verdict === 'wait') {
      this.queued = true;
      this.stream.pause();
      this.host.limiter.enqueue(this);
      return;
    }
    this.end = new ExchangeEnd(this.host, this, admission.ticket, admission.permit);
    // In the next turn: a stream its client reset in the same read (rapid reset, CVE-2023-44487)
    // is closed by then and never reaches the app.
    if (admittedThisTurn.push(this) === 1) setImmediate(forwardAdmitted);
  }

  private setBusy(busy: boolean): void {
    if (busy === this.busy) return;
    this.busy = busy;
    this.host.busyChanged(busy ? 1 : -1);
  }

  /** @internal — in the turn after admission (forwardAdmitted). */
  forward(): void {
    const end = this.end;
    if (end === null || end.isFinished) return;
    const stream = this.stream;
    const hasBody = !stream.endAfterHeaders;
    const clientAddress = stream.session?.socket?.remoteAddress ?? 'unknown';
    end.permit.sending();
    const call = this.host.appCall(this, {
      method: this.method,
      path: this.target,
      authority: one(this.headers[':authority']) ?? one(this.headers.host) ?? this.host.upstreamAuthority,
      raw: this.raw, // pseudo-headers included: each call leaves them out
      requestId: this.requestId,
      clientAddress,
      hasBody,
      contentLength: one(this.headers['content-length']),
      replayable: !hasBody && isIdempotent(this.method),
      trustForwarded: this.state.trustedProxies.trusts(clientAddress),
    }, this.state);
    this.call = call;
    const timeoutMs = this.grpc ? grpcTimeoutMs(one(this.headers['grpc-timeout'])) : undefined;
    if (timeoutMs !== undefined) {
      this.deadline = setTimeout(onDeadline, Math.max(1, Math.ceil(timeoutMs)), this);
      this.deadline.unref();
    }
    // Without a body there is nothing to read (Node reads the ended side's end by itself).
    if (hasBody) {
      stream.on('data', (piece: Buffer) => this.clientData(piece));
      stream.on('end', () => this.clientEnd());
    }
    stream.on('drain', this.onClientDrain);
    call.start();
    // An empty body's end may have been read already (Node reads an ended stream's end at once).
    if (hasBody && stream.readableEnded) call.end();
    stream.resume();
  }

  // Waiter: the limiter's verdict, acted on in a later turn like HTTP/1.1's queued requests.

  granted(permit: Permit): void {
    setImmediate(() => {
      if (!this.queued) return permit.release();
      this.queued = false;
      const admission = admitAfterWait(this.state.breaker, this.host.limiter, permit);
      if (admission.verdict === 'answer') this.setBusy(false);
      this.admitted(admission);
    }).unref();
  }

  shed(): void {
    setImmediate(() => {
      if (!this.queued) return;
      this.queued = false;
      this.setBusy(false);
      this.answerWithoutApp('overloaded');
    }).unref();
  }

  // The client's side.

  private clientData(piece: Buffer): void {
    if (this.call !== null && !this.finished && !this.call.body(piece)) this.stream.pause();
  }

  private clientEnd(): void {
    if (!this.finished) this.call?.end();
  }

  private readonly onClientDrain = (): void => {
    this.call?.resume();
  };

  private readonly onWantTrailers = (): void => {
    this.stream.sendTrailers(this.outTrailers);
  };

  private get finished(): boolean {
    return this.end === null || this.end.isFinished;
  }

  /** The client cancelled the stream (or its connection went): never the app's failure. */
  private readonly onClose = (): void => {
    if (this.queued) {
      this.queued = false;
      this.host.limiter.cancel(this);
    } else if (!this.finished) {
      this.call?.cancel();
      this.finish({ status: this.responded ? this.status : null, reason: '', appFailed: false, error: new Error('the client cancelled the stream') });
    }
    this.setBusy(false);
  };

  /** @internal — the client's grpc-timeout ran out: its own deadline, not the app's failure. */
  deadlineExpired(): void {
    this.deadline = null;
    if (this.finished) return;
    this.call?.cancel();
    this.fail(new BadGatewayError('response-timeout', 'the call\'s grpc-timeout expired'), false);
  }

  // AppCallOwner: the app's side.

  appHead(status: number, headers: OutgoingHttpHeaders, incoming: IncomingHttpHeaders | undefined, endStream: boolean): void {
    const end = this.end;
    if (end === null || end.isFinished) return;
    this.responded = true;
    this.status = status;
    this.headEnded = endStream;
    this.headGrpcStatus = grpcStatusOf(incoming);
    end.permit.responded();
    // A gRPC call with its head is a stream now (server or bidirectional streaming may last for
    // hours): like an upgrade, it no longer holds a slot of the limiter.
    if (this.grpc) end.permit.release();
    this.host.metrics.upstreamDuration(end.elapsedMs() / 1000);
    if (this.stream.destroyed) return;
    this.stream.respond(headers, endStream ? { endStream: true } : { waitForTrailers: true });
  }

  appBody(piece: Buffer): boolean {
    if (this.finished || this.stream.destroyed) return true;
    return this.stream.write(piece);
  }

  appEnd(trailers: IncomingHttpHeaders | undefined): void {
    if (this.finished) return;
    const grpcStatus = grpcStatusOf(trailers) ?? this.headGrpcStatus;
    const appFailed = this.state.failureStatusCodes.has(this.status) || (grpcStatus !== undefined && this.state.failureGrpcCodes.has(grpcStatus));
    if (trailers !== undefined) this.outTrailers = trailersFor(trailers);
    if (!this.headEnded && !this.stream.destroyed) this.stream.end();
    this.finish({ status: this.status, reason: '', appFailed, grpcStatus });
  }

  appFailed(error: BadGatewayError): void {
    if (!this.finished) this.fail(error, true);
  }

  appReady(): void {
    this.stream.resume();
  }

  /**
   * The app's call failed (or the client's deadline ran out, `byApp` false): the answer before a
   * head, trailers with a gRPC status or RST_STREAM after it.
   */
  private fail(error: BadGatewayError, byApp: boolean): void {
    const end = this.end as ExchangeEnd;
    if (!this.responded) {
      if (byApp && error.kind === 'response-timeout') end.permit.responded(); // a slow app is what the limiter must see
      this.host.metrics.upstreamDuration(end.elapsedMs() / 1000);
      const status = statusFor(error.kind, this.state.config);
      const answer = this.answerFor(error.kind, status);
      this.answerItself(answer);
      return this.finish({ status, reason: error.reason, appFailed: byApp && error.failure.countsAgainstApp, error, grpcStatus: this.grpcStatusFor(error.kind) });
    }
    const kind = afterResponseHead(error.kind);
    if (this.grpc && !this.headEnded && !this.stream.destroyed) {
      this.outTrailers = grpcStatusFields(this.answerFor(kind, this.status));
      this.stream.end();
    } else if (!this.stream.destroyed) {
      this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    }
    this.finish({ status: this.status, reason: FAILURES[kind].reason, appFailed: byApp && FAILURES[kind].countsAgainstApp, error, grpcStatus: this.grpcStatusFor(kind) });
  }

  private grpcStatusFor(kind: FailureKind): number | undefined {
    return this.grpc ? FAILURES[kind].grpcStatus : undefined;
  }

  private answerFor(kind: FailureKind, status: number): StreamAnswer {
    return { kind, status, requestId: this.requestId, traceId: this.traceId, accept: one(this.headers.accept) };
  }

  /** The sidecar's own answer, once a small declared request body has ended (after-request-body.ts). */
  private answerItself(answer: StreamAnswer): void {
    afterSmallRequestBody(this.stream, one(this.headers['content-length']), () => answerStream(this.stream, this.state.pages, answer, this.grpc, this.method === 'HEAD'));
  }

  /** The open circuit's or the limiter's answer: the app never sees the stream. */
  private answerWithoutApp(kind: AnswerWithoutAppKind): void {
    const state = this.state;
    const status = statusFor(kind, state.config);
    const retryAfterSeconds = kind === 'circuit-open' ? retryAfterFor(state) : overloadRetryAfter(state);
    // In milliseconds where Retry-After has whole seconds: exactly until the breaker's next trial.
    const pushbackMs = kind === 'circuit-open' && state.retryAfterSeconds === undefined ? state.breaker.msUntilTrial() : retryAfterSeconds * 1000;
    const answer = { ...this.answerFor(kind, status), retryAfterSeconds, pushbackMs };
    this.answerItself(answer);
    this.stream.resume(); // a body nobody will read is discarded, not left in the window
    this.count(status, kind, this.grpcStatusFor(kind));
    if (this.host.accessLog) this.host.fastFailureLog.log(this.host.logger, { method: this.method, path: this.target, status, reason: kind, requestId: this.requestId, traceId: this.traceId });
  }

  /** A request the sidecar will not forward: never counted against the app. */
  private refuse(status: number): void {
    const failure = FAILURES['client-refused'];
    if (!this.stream.destroyed) {
      this.stream.respond({ ':status': status, 'x-request-id': this.requestId, 'x-badgateway-reason': failure.reason, 'proxy-status': `badgateway; error=${failure.proxyError}` }, { endStream: true });
    }
    this.count(status, 'client-refused', this.grpcStatusFor('client-refused'));
  }

  private finish(outcome: ExchangeOutcome): void {
    if (this.deadline !== null) clearTimeout(this.deadline);
    if (!(this.end as ExchangeEnd).finish(outcome)) return;
    if (outcome.status !== null) this.countHttp2(outcome.grpcStatus);
    this.setBusy(false);
  }

  /** An answer without an exchange (ExchangeEnd counts the others). */
  private count(status: number, reason: 'circuit-open' | 'overloaded' | 'client-refused', grpcStatus: number | undefined): void {
    this.host.metrics.request(status, reason);
    this.countHttp2(grpcStatus);
  }

  private countHttp2(grpcStatus: number | undefined): void {
    this.host.metrics.http2Request?.(this.grpc ? 'grpc' : 'http', grpcStatus === undefined ? '' : String(grpcStatus));
  }
}

const ignore = (): void => undefined;

/**
 * One HTTP/2 client stream: admitted like an HTTP/1.1 request (breaker, then limiter), forwarded
 * through an AppCall with flow control both ways, and answered by the sidecar itself when the app
 * cannot be — an error page, or for gRPC a Trailers-Only status. After the response head a failure
 * becomes trailers with a gRPC status or a RST_STREAM, never a clean end. `grpc-timeout` is the
 * call's deadline; when it (and not the app's own timeout) runs out, the breaker counts nothing.
 */
import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { BreakerTicket } from '../breaker.js';
import type { Reason } from '../contracts.js';
import { BadGatewayError, circuitOpenError, GRPC_STATUS, statusFor } from '../errors.js';
import { isIdempotent, requestIdOf } from '../http1/heads.js';
import { overloadRetryAfter, retryAfterFor, type RouteState } from '../http1/route-state.js';
import { traceIdOf } from '../http1/trace-context.js';
import type { Permit, Waiter } from '../overload/limiter.js';
import { answerStream, grpcStatusFields, type StreamAnswer } from './answers.js';
import type { AppCall, AppCallOwner } from './app-call.js';
import { grpcStatusOf, grpcTimeoutMs, isGrpc } from './grpc.js';
import { withoutPseudoHeaders } from './headers.js';
import type { StreamHost } from './stream-host.js';

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export class StreamExchange implements AppCallOwner, Waiter {
  private readonly method: string;
  private readonly path: string;
  private readonly requestId: string;
  private readonly traceId: string | undefined;
  private readonly grpc: boolean;
  private readonly startedAt = performance.now();
  private state: RouteState;
  private call: AppCall | null = null;
  private ticket: BreakerTicket | null = null;
  private permit: Permit | null = null;
  private queued = false;
  private responded = false;
  private headEnded = false;
  private status = 0;
  private headGrpcStatus: number | undefined;
  private outTrailers: OutgoingHttpHeaders = {};
  /** The gRPC status the client got, the app's or the sidecar's own (for the metric). */
  private sentGrpcStatus: number | undefined;
  private finished = false;
  private deadline: NodeJS.Timeout | null = null;

  constructor(private readonly host: StreamHost, private readonly stream: ServerHttp2Stream, private readonly headers: IncomingHttpHeaders, private readonly raw: readonly string[]) {
    this.method = one(headers[':method']) ?? 'GET';
    this.path = one(headers[':path']) ?? '/';
    this.requestId = requestIdOf(one(headers['x-request-id']));
    this.traceId = traceIdOf(headers.traceparent);
    this.grpc = isGrpc(one(headers['content-type']));
    this.state = host.routeState();
    stream.on('error', ignore); // a broken stream ends in 'close', where it is handled
    stream.once('close', this.onClose);
    stream.on('wantTrailers', this.onWantTrailers);
  }

  begin(): void {
    const state = this.state;
    if (this.method === 'CONNECT') return this.refuse(501);
    if (state.breaker.rejects()) return this.answerWithoutApp('circuit-open');
    const admission = this.host.limiter.acquire(this.path);
    if (admission === 'shed') return this.answerWithoutApp('overloaded');
    this.host.exchangeStarted(); // a drain waits for a queued stream as for one in flight
    if (admission === 'wait') {
      this.queued = true;
      this.stream.pause();
      this.host.limiter.enqueue(this);
      return;
    }
    this.admit(admission);
  }

  private admit(permit: Permit): void {
    const ticket = this.state.breaker.admit();
    if (ticket === null) {
      permit.release();
      this.host.exchangeDone();
      return this.answerWithoutApp('circuit-open');
    }
    this.ticket = ticket;
    this.permit = permit;
    // In the next turn: a stream its client reset in the same read (rapid reset, CVE-2023-44487)
    // is closed by then and never reaches the app.
    setImmediate(this.forward);
  }

  private readonly forward = (): void => {
    if (this.finished) return;
    const stream = this.stream;
    const hasBody = !stream.endAfterHeaders;
    const clientAddress = stream.session?.socket?.remoteAddress ?? 'unknown';
    const call = this.host.appCall(this, {
      method: this.method,
      path: this.path,
      authority: one(this.headers[':authority']) ?? one(this.headers.host) ?? this.host.upstreamAuthority,
      raw: withoutPseudoHeaders(this.raw),
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
      this.deadline = setTimeout(this.onDeadline, Math.max(1, Math.ceil(timeoutMs)));
      this.deadline.unref();
    }
    stream.on('data', this.onClientData);
    stream.on('end', this.onClientEnd);
    stream.on('drain', this.onClientDrain);
    call.start();
    // An empty body's end may have been read already (Node reads an ended stream's end at once).
    if (hasBody && stream.readableEnded) call.end();
    stream.resume();
  };

  // Waiter: the limiter's verdict, acted on in a later turn like HTTP/1.1's queued requests.

  granted(permit: Permit): void {
    setImmediate(() => {
      if (!this.queued) return permit.release();
      this.queued = false;
      this.admit(permit);
    }).unref();
  }

  shed(): void {
    setImmediate(() => {
      if (!this.queued) return;
      this.queued = false;
      this.host.exchangeDone();
      this.answerWithoutApp('overloaded');
    }).unref();
  }

  // The client's side.

  private readonly onClientData = (piece: Buffer): void => {
    if (this.finished || this.call === null) return;
    if (!this.call.body(piece)) this.stream.pause();
  };

  private readonly onClientEnd = (): void => {
    if (!this.finished) this.call?.end();
  };

  private readonly onClientDrain = (): void => {
    this.call?.resume();
  };

  private readonly onWantTrailers = (): void => {
    this.stream.sendTrailers(this.outTrailers);
  };

  /** The client cancelled the stream (or its connection went): never the app's failure. */
  private readonly onClose = (): void => {
    if (this.queued) {
      this.queued = false;
      this.host.limiter.cancel(this);
      this.host.exchangeDone();
      return;
    }
    if (this.finished || this.ticket === null) return;
    this.call?.cancel();
    this.ticket.settle(true);
    this.end(this.responded ? this.status : 0, '', new Error('the client cancelled the stream'), false);
  };

  /** The client's grpc-timeout ran out: its own deadline, not the app's failure. */
  private readonly onDeadline = (): void => {
    this.deadline = null;
    if (this.finished) return;
    this.call?.cancel();
    this.ticket?.settle(true);
    this.fail(new BadGatewayError('timeout', 'http_response_timeout', 'the call\'s grpc-timeout expired'), false);
  };

  // AppCallOwner: the app's side.

  appHead(status: number, headers: OutgoingHttpHeaders, incoming: IncomingHttpHeaders | undefined, endStream: boolean): void {
    if (this.finished) return;
    this.responded = true;
    this.status = status;
    this.headEnded = endStream;
    this.headGrpcStatus = grpcStatusOf(incoming);
    this.permit?.responded();
    // A gRPC call with its head is a stream now (server or bidirectional streaming may last for
    // hours): like an upgrade, it no longer holds a slot of the limiter.
    if (this.grpc) this.permit?.release();
    this.host.metrics.upstreamDuration((performance.now() - this.startedAt) / 1000);
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
    this.sentGrpcStatus = grpcStatus;
    const failed = this.state.failureStatusCodes.has(this.status) || (grpcStatus !== undefined && this.state.failureGrpcCodes.has(grpcStatus));
    this.ticket?.settle(!failed);
    if (trailers !== undefined) this.outTrailers = trailersFor(trailers);
    if (!this.headEnded && !this.stream.destroyed) this.stream.end();
    this.end(this.status, '', undefined, true);
  }

  appFailed(error: BadGatewayError): void {
    if (this.finished) return;
    this.ticket?.settle(false);
    this.fail(error, true);
  }

  appReady(): void {
    this.stream.resume();
  }

  /** The app's call failed (or the deadline ran out): the answer before a head, trailers or RST_STREAM after. */
  private fail(error: BadGatewayError, counted: boolean): void {
    this.sentGrpcStatus = GRPC_STATUS[error.reason];
    if (error.reason === 'timeout' && counted) this.permit?.responded();
    if (!this.responded) {
      this.host.metrics.upstreamDuration((performance.now() - this.startedAt) / 1000);
      const status = statusFor(error.reason, this.state.config);
      answerStream(this.stream, this.state.pages, this.answerFor(error.reason, error.proxyError, status), this.grpc, this.method === 'HEAD');
      return this.end(status, error.reason, error, true);
    }
    const reason: Reason = error.reason === 'reset' || error.reason === 'connect-failed' ? 'body-truncated' : error.reason;
    if (this.grpc && !this.headEnded && !this.stream.destroyed) {
      this.outTrailers = grpcStatusFields(this.answerFor(reason, error.proxyError, this.status));
      this.stream.end();
    } else if (!this.stream.destroyed) {
      this.stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    }
    this.end(this.status, reason, error, true);
  }

  private answerFor(reason: Reason, proxyError: BadGatewayError['proxyError'], status: number): StreamAnswer {
    return { status, reason, proxyError, requestId: this.requestId, traceId: this.traceId, accept: one(this.headers.accept) };
  }

  /** The open circuit's or the limiter's answer: the app never sees the stream. */
  private answerWithoutApp(reason: 'circuit-open' | 'overloaded'): void {
    const state = this.state;
    const status = statusFor(reason, state.config);
    const error = reason === 'circuit-open' ? circuitOpenError() : new BadGatewayError('overloaded', 'connection_limit_reached', 'overloaded');
    const retryAfterSeconds = reason === 'circuit-open' ? retryAfterFor(state) : overloadRetryAfter(state);
    // In milliseconds where Retry-After has whole seconds: exactly until the breaker's next trial.
    const pushbackMs = reason === 'circuit-open' && state.retryAfterSeconds === undefined ? state.breaker.msUntilTrial() : retryAfterSeconds * 1000;
    answerStream(this.stream, state.pages, { ...this.answerFor(reason, error.proxyError, status), retryAfterSeconds, pushbackMs }, this.grpc, this.method === 'HEAD');
    this.stream.resume(); // a body nobody will read is discarded, not left in the window
    this.finished = true;
    this.sentGrpcStatus = GRPC_STATUS[reason];
    this.count(status, reason);
    if (this.host.accessLog) this.host.fastFailureLog.log(this.host.logger, { method: this.method, path: this.path, status, reason, requestId: this.requestId, traceId: this.traceId });
  }

  /** A request the sidecar will not forward: never counted against the app. */
  private refuse(status: number): void {
    if (!this.stream.destroyed) {
      this.stream.respond({ ':status': status, 'x-request-id': this.requestId, 'x-badgateway-reason': 'client-refused', 'proxy-status': 'badgateway; error=http_request_error' }, { endStream: true });
    }
    this.finished = true;
    this.sentGrpcStatus = GRPC_STATUS['client-refused'];
    this.count(status, 'client-refused');
  }

  private end(status: number, reason: Reason | '', error: Error | undefined, counted: boolean): void {
    this.finished = true;
    if (this.deadline !== null) clearTimeout(this.deadline);
    if (counted) this.count(status, reason);
    if (this.host.accessLog) this.log(status, reason, error);
    this.permit?.release();
    this.host.exchangeDone();
  }

  private count(status: number, reason: Reason | ''): void {
    this.host.metrics.request(status, reason);
    this.host.metrics.http2Request?.(this.grpc ? 'grpc' : 'http', this.grpc && this.sentGrpcStatus !== undefined ? String(this.sentGrpcStatus) : '');
  }

  private log(status: number, reason: Reason | '', error?: Error): void {
    this.host.logger.info({
      protocol: 'h2',
      method: this.method,
      path: this.path,
      status,
      reason,
      upstreamMs: Math.round((performance.now() - this.startedAt) * 100) / 100,
      requestId: this.requestId,
      ...(this.grpc ? { grpcStatus: this.sentGrpcStatus } : {}),
      ...(this.traceId === undefined ? {} : { traceId: this.traceId }),
      ...(error === undefined ? {} : { error: error.message }),
    }, 'request');
  }
}

/** The app's trailers for the client: pseudo-headers never appear in trailers. */
function trailersFor(trailers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name of Object.keys(trailers)) if (!name.startsWith(':')) out[name] = trailers[name];
  return out;
}

const ignore = (): void => undefined;

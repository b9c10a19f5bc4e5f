/**
 * An HTTP/1.1 client's request to an h2c app: the request goes out as a stream (H2AppCall), the
 * app's HTTP/2 response comes back as an HTTP/1.1 head built by the same hygiene as an HTTP/1.1
 * app's, its body re-framed (Content-Length kept, else chunked, or until close for HTTP/1.0). The
 * app's trailers are dropped (HTTP/1.1 clients rarely ask for them with `TE: trailers`). Failures
 * before the head are the design's error responses; after it, the client connection is aborted.
 */
import { STATUS_CODES } from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { BreakerTicket } from '../breaker.js';
import type { Reason } from '../contracts.js';
import { rawErrorResponse } from '../error-pages.js';
import { statusFor, type BadGatewayError } from '../errors.js';
import type { ClientExchange, ExchangeClient, ExchangeHost, ExchangeRequest } from '../http1/exchange.js';
import { writeChunk } from '../http1/chunked-write.js';
import { clientResponseHead, type ResponseFraming } from '../http1/heads.js';
import type { RouteState } from '../http1/route-state.js';
import type { Permit } from '../overload/limiter.js';
import type { AppCall, AppCallOwner } from './app-call.js';
import type { AppSessions } from './app-sessions.js';
import { grpcStatusOf } from './grpc.js';
import { H2AppCall } from './h2-app-call.js';
import { rawListOf } from './headers.js';

const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

export class H2cAppExchange implements ClientExchange, AppCallOwner {
  private readonly call: AppCall;
  private readonly startedAt = performance.now();
  private status = 0;
  private responded = false;
  private framing: ResponseFraming = 'none';
  private closeAfter = false;
  private finished = false;
  private requestDone = false;
  private headGrpcStatus: number | undefined;

  constructor(
    private readonly host: ExchangeHost,
    private readonly client: ExchangeClient,
    private readonly state: RouteState,
    private readonly request: ExchangeRequest,
    private readonly ticket: BreakerTicket,
    private readonly permit: Permit,
    sessions: AppSessions,
  ) {
    this.call = new H2AppCall(this, sessions, {
      method: request.method,
      path: request.originTarget,
      authority: request.authority,
      raw: request.headers,
      requestId: request.requestId,
      clientAddress: client.socket.remoteAddress ?? 'unknown',
      hasBody: request.hasBody,
      contentLength: request.contentLength,
      replayable: request.replayable,
      trustForwarded: request.trustForwarded,
    }, state.pool);
  }

  start(): void {
    this.call.start(); // reads the parser's headers now, before parsing goes on
  }

  requestBody(piece: Buffer): boolean {
    return this.finished ? true : this.call.body(piece);
  }

  requestEnd(): void {
    this.requestDone = true;
    if (!this.finished) this.call.end();
  }

  hasAnswered(): boolean {
    return this.responded;
  }

  answeredStatus(): number {
    return this.status;
  }

  clientGone(): void {
    if (this.finished) return;
    this.finished = true;
    this.call.cancel();
    this.ticket.settle(true); // the client left; that says nothing about the app
    this.permit.release();
    this.host.exchangeDone();
  }

  onClientDrain(): void {
    this.call.resume();
  }

  // AppCallOwner

  appHead(status: number, headers: OutgoingHttpHeaders, incoming: IncomingHttpHeaders | undefined): void {
    if (this.finished) return;
    this.status = status;
    this.responded = true;
    this.headGrpcStatus = grpcStatusOf(incoming);
    this.permit.responded();
    this.host.metrics.upstreamDuration((performance.now() - this.startedAt) / 1000);
    const client = this.client;
    const noBody = this.request.method === 'HEAD' || status === 204 || status === 304;
    if (noBody) this.framing = 'none';
    else if (headers['content-length'] !== undefined) this.framing = 'length';
    else this.framing = client.http10 ? 'eof' : 'chunked';
    this.closeAfter = this.host.isDraining() || !client.keepAlive || this.framing === 'eof' || this.request.upgrade;
    const raw = rawListOf(headers as IncomingHttpHeaders);
    client.socket.write(clientResponseHead({
      statusCode: status,
      statusText: STATUS_CODES[status] ?? '',
      headers: raw,
      requestId: this.request.requestId,
      framing: this.framing,
      connection: this.closeAfter ? 'close' : client.http10 ? 'keep-alive' : '',
    }), 'latin1');
  }

  appBody(piece: Buffer): boolean {
    if (this.finished || this.framing === 'none') return true;
    const socket = this.client.socket;
    return this.framing === 'chunked' ? writeChunk(socket, piece) : socket.write(piece);
  }

  appEnd(trailers: IncomingHttpHeaders | undefined): void {
    if (this.finished) return;
    if (this.framing === 'chunked') this.client.socket.write(LAST_CHUNK);
    const grpcStatus = grpcStatusOf(trailers) ?? this.headGrpcStatus;
    this.ticket.settle(!(this.state.failureStatusCodes.has(this.status) || (grpcStatus !== undefined && this.state.failureGrpcCodes.has(grpcStatus))));
    this.complete(this.status, '', undefined, this.closeAfter || !this.requestDone);
  }

  appFailed(error: BadGatewayError): void {
    if (this.finished) return;
    this.ticket.settle(false);
    if (this.responded) {
      // The head is gone: never let a truncated body look complete.
      this.finished = true;
      this.client.socket.destroy();
      const reason: Reason = error.reason === 'reset' || error.reason === 'connect-failed' ? 'body-truncated' : error.reason;
      this.host.metrics.request(this.status, reason);
      if (this.host.accessLog) this.log(this.status, reason, error);
      this.permit.release();
      this.host.exchangeDone();
      return;
    }
    if (error.reason === 'timeout') this.permit.responded(); // a slow app is what the limiter must see
    this.host.metrics.upstreamDuration((performance.now() - this.startedAt) / 1000);
    const status = statusFor(error.reason, this.state.config);
    const close = this.host.isDraining() || !this.client.keepAlive || !this.requestDone || this.request.upgrade;
    this.client.socket.write(rawErrorResponse(this.state.pages, this.request.accept, {
      status, reason: error.reason, proxyError: error.proxyError, requestId: this.request.requestId, traceId: this.request.traceId, close,
    }, this.request.method === 'HEAD'));
    this.complete(status, error.reason, error, close);
  }

  appReady(): void {
    this.client.resumeReading();
  }

  private complete(status: number, reason: Reason | '', error: Error | undefined, close: boolean): void {
    this.finished = true;
    this.host.metrics.request(status, reason);
    if (this.host.accessLog) this.log(status, reason, error);
    this.permit.release();
    this.host.exchangeDone();
    this.client.exchangeFinished(close);
  }

  private log(status: number, reason: Reason | '', error?: Error): void {
    this.host.logger.info({
      protocol: 'http/1.1',
      appProtocol: 'h2c',
      method: this.request.method,
      path: this.request.target,
      status,
      reason,
      upstreamMs: Math.round((performance.now() - this.startedAt) * 100) / 100,
      requestId: this.request.requestId,
      ...(this.request.traceId === undefined ? {} : { traceId: this.request.traceId }),
      ...(error === undefined ? {} : { error: error.message }),
    }, 'request');
  }
}

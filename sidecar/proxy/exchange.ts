/**
 * One client request forwarded upstream: an undici dispatch handler that streams both ways with
 * backpressure, settles the breaker ticket once, retries safely, and turns failures before the
 * response head into the design's error responses (after it, the client connection is aborted).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Logger, Reason, SidecarMetrics } from '../contracts.js';
import type { BreakerTicket } from '../breaker.js';
import type { Permit } from '../overload/limiter.js';
import { writeErrorResponse } from '../error-pages.js';
import { classifyUpstreamError, isRetriable, statusFor } from '../errors.js';
import { clientResponseHeaders, hasRequestBody, isIdempotent, upstreamRequestHeaders } from './headers.js';
import type { RouteState } from './route-state.js';

type DispatchController = Parameters<NonNullable<Dispatcher.DispatchHandler['onRequestStart']>>[0];

/** What an exchange needs from the server that owns it. */
export interface ExchangeHost {
  readonly metrics: SidecarMetrics;
  readonly logger: Logger;
  /** Whether the access log (level info) is written at all; when not, its object is never built. */
  readonly accessLog: boolean;
  isDraining(): boolean;
  exchangeDone(): void;
}

export class Exchange implements Dispatcher.DispatchHandler {
  private controller: DispatchController | undefined;
  private readonly options: Dispatcher.DispatchOptions;
  private readonly startedAt = performance.now();
  private status = 0;
  private responded = false;
  private finished = false;
  private attempts = 0;
  private readonly replayable: boolean;

  constructor(
    private readonly host: ExchangeHost,
    private readonly state: RouteState,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly requestId: string,
    private readonly ticket: BreakerTicket,
    private readonly permit: Permit,
  ) {
    const withBody = hasRequestBody(req);
    this.replayable = !withBody && isIdempotent(req.method);
    this.options = {
      path: req.url ?? '/',
      method: req.method as Dispatcher.HttpMethod,
      headers: upstreamRequestHeaders(req, requestId),
      body: withBody ? req : null,
      headersTimeout: state.pool.responseMs,
    };
    res.once('close', this.onClientClose);
    res.on('drain', this.onClientDrain);
  }

  start(): void {
    this.state.pool.dispatch(this.options, this);
  }

  onRequestStart(controller: DispatchController): void {
    this.controller = controller;
    if (this.finished) controller.abort(new Error('client went away'));
  }

  onResponseStart(_controller: DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>, statusMessage?: string): void {
    this.status = statusCode;
    this.responded = true;
    this.host.metrics.upstreamDuration((performance.now() - this.startedAt) / 1000);
    this.ticket.settle(!this.state.failureStatusCodes.has(statusCode));
    this.permit.responded();
    if (this.attempts > 0) this.host.metrics.reusedSocketFailure();
    const outgoing = clientResponseHeaders(headers, this.requestId, this.host.isDraining());
    if (statusMessage !== undefined && statusMessage !== '') this.res.writeHead(statusCode, statusMessage, outgoing);
    else this.res.writeHead(statusCode, outgoing);
  }

  onResponseData(controller: DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.res.end();
    this.complete('');
  }

  onResponseError(_controller: DispatchController, error: Error): void {
    if (this.finished) {
      this.ticket.settle(true); // the client left; that says nothing about the app
      return;
    }
    if (this.responded) {
      // Headers are gone: never let a truncated body look complete.
      this.res.destroy(error);
      this.complete('reset', error);
      return;
    }
    const failure = classifyUpstreamError(error);
    if (isRetriable(failure) && this.replayable && this.attempts < this.state.retryAttempts) {
      this.attempts += 1;
      this.state.pool.dispatchFresh(this.options, this);
      return;
    }
    this.ticket.settle(false);
    if (failure.reason === 'timeout') this.permit.responded(); // a slow app is what the limiter must see
    this.host.metrics.upstreamDuration((performance.now() - this.startedAt) / 1000);
    const status = statusFor(failure.reason, this.state.config);
    writeErrorResponse(this.res, this.state.pages, this.req.headers.accept, {
      status,
      reason: failure.reason,
      proxyError: failure.proxyError,
      requestId: this.requestId,
      close: this.host.isDraining(),
    });
    this.status = status;
    this.complete(failure.reason, failure);
  }

  private complete(reason: Reason | '', error?: Error): void {
    this.host.metrics.request(this.status, reason);
    if (this.host.accessLog) this.log(this.status, reason, error);
  }

  private log(status: number, reason: Reason | '', error?: Error): void {
    this.host.logger.info({
      method: this.req.method,
      path: this.req.url,
      status,
      reason,
      upstreamMs: Math.round((performance.now() - this.startedAt) * 100) / 100,
      requestId: this.requestId,
      ...(error === undefined ? {} : { error: error.message }),
    }, 'request');
  }

  private readonly onClientDrain = (): void => {
    this.controller?.resume();
  };

  private readonly onClientClose = (): void => {
    if (this.finished) return;
    this.finished = true;
    this.res.off('drain', this.onClientDrain);
    if (!this.res.writableFinished) this.controller?.abort(new Error('client went away'));
    this.permit.release();
    this.host.exchangeDone();
  };
}

/**
 * A request to an h2c app: one stream on a shared session (app-sessions.ts). Flow control is
 * node:http2's both ways (a paused side stops its window). A stream the app never processed
 * (REFUSED_STREAM, or beyond a GOAWAY's last stream id) is sent again on another session, with the
 * body pieces kept for that purpose while they are small; nothing else is retried.
 */
import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { BadGatewayError, socketFailure } from '../core/failures.js';
import type { LinkDeadlines } from '../http1/app-link.js';
import { DeadlineTimer, type TimerOwner } from '../http1/deadline-timer.js';
import type { AppCall, AppCallOwner, AppRequest } from './app-call.js';
import type { AppSessions } from './app-sessions.js';
import { appRequestHeaders, clientHeadersFromHttp2 } from './headers.js';

/** Request body kept for a resend after REFUSED_STREAM; a larger body is not resent. */
const REPLAY_LIMIT = 64 * 1024;
const MAX_REFUSED_RETRIES = 2;
const TIMER_RESPONSE = 1;
const TIMER_BODY = 2;

/** What went wrong on a stream that closed without a complete response. */
function streamFailure(error: Error | null, rstCode: number): BadGatewayError {
  const cause = (error as { cause?: unknown } | null)?.cause;
  if (cause instanceof BadGatewayError) return cause;
  // Not `instanceof Error`: errors made by Node's internals may come from another realm (a VM context).
  if (typeof cause === 'object' && cause !== null) return socketFailure(cause as Error);
  if (error instanceof BadGatewayError) return error;
  if (rstCode === constants.NGHTTP2_PROTOCOL_ERROR || rstCode === constants.NGHTTP2_FRAME_SIZE_ERROR || rstCode === constants.NGHTTP2_COMPRESSION_ERROR) {
    return new BadGatewayError('invalid-response', error?.message ?? `stream reset with code ${rstCode}`, { cause: error });
  }
  // Any other end of a stream before its response: the app (or its session) went away.
  return error === null ? new BadGatewayError('reset', `stream closed with code ${rstCode}`) : socketFailure(error);
}

export class H2AppCall implements AppCall, TimerOwner {
  private stream: ClientHttp2Stream | null = null;
  private readonly headers: OutgoingHttpHeaders;
  private readonly timer = new DeadlineTimer(this);
  private kept: Buffer[] | null = [];
  private keptBytes = 0;
  private refusals = 0;
  private requestEnded = false;
  private responded = false;
  private done = false;
  private trailers: IncomingHttpHeaders | undefined;
  private lastError: Error | null = null;

  constructor(private readonly owner: AppCallOwner, private readonly sessions: AppSessions, private readonly request: AppRequest, private readonly timings: LinkDeadlines) {
    this.headers = appRequestHeaders(request.raw, request, request.requestId, request.clientAddress, request.trustForwarded);
  }

  start(): void {
    this.open();
  }

  private open(): void {
    this.lastError = null;
    const stream = this.sessions.request(this.headers, !this.request.hasBody, this.timings.connectMs);
    this.stream = stream;
    stream.on('response', this.onResponse);
    stream.on('data', this.onData);
    stream.on('trailers', this.onTrailers);
    stream.on('end', this.onEnd);
    stream.on('drain', this.onDrain);
    stream.on('error', this.onError);
    stream.on('close', this.onClose);
    if (this.kept !== null) for (const piece of this.kept) stream.write(piece);
    if (!this.request.hasBody || this.requestEnded) this.armResponseTimer();
    if (this.requestEnded && this.request.hasBody) stream.end();
  }

  private armResponseTimer(): void {
    this.timer.arm(TIMER_RESPONSE, this.timings.responseMs);
  }

  body(piece: Buffer): boolean {
    if (this.kept !== null) {
      this.keptBytes += piece.length;
      if (this.keptBytes <= REPLAY_LIMIT) this.kept.push(piece);
      else this.kept = null;
    }
    const stream = this.stream;
    return stream === null || this.done ? true : stream.write(piece);
  }

  end(): void {
    if (this.requestEnded) return;
    this.requestEnded = true;
    if (this.done || this.stream === null || !this.request.hasBody) return;
    this.stream.end();
    if (!this.responded) this.armResponseTimer();
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.timer.cancel();
    this.stream?.close(constants.NGHTTP2_CANCEL);
  }

  pause(): void {
    this.stream?.pause();
  }

  resume(): void {
    this.stream?.resume();
  }

  timerFired(kind: number): void {
    if (this.done) return;
    const error = kind === TIMER_RESPONSE
      ? new BadGatewayError('response-timeout', `no response head within ${this.timings.responseMs} ms`)
      : new BadGatewayError('body-timeout', `the response body paused for ${this.timings.responseBodyIdleMs} ms`);
    this.fail(error);
  }

  private fail(error: BadGatewayError): void {
    this.done = true;
    this.timer.cancel();
    this.stream?.close(constants.NGHTTP2_CANCEL);
    this.owner.appFailed(error);
  }

  private readonly onResponse = (headers: IncomingHttpHeaders, flags: number): void => {
    if (this.done) return;
    this.responded = true;
    this.kept = null;
    this.timer.arm(TIMER_BODY, this.timings.responseBodyIdleMs);
    this.owner.appHead(Number(headers[':status']), clientHeadersFromHttp2(headers, this.request.requestId), headers, (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0);
  };

  private readonly onData = (chunk: Buffer): void => {
    if (this.done) return;
    this.timer.restart();
    if (!this.owner.appBody(chunk)) this.stream?.pause();
  };

  private readonly onTrailers = (trailers: IncomingHttpHeaders): void => {
    this.trailers = trailers;
  };

  private readonly onEnd = (): void => {
    if (this.done || !this.responded) return;
    this.done = true;
    this.timer.cancel();
    // The app answered before the whole request reached it (RFC 9113 §8.1): the rest is not sent,
    // and the stream is closed now, not left open on the shared session until the client's end.
    if (this.request.hasBody && !this.requestEnded) this.stream?.close(constants.NGHTTP2_NO_ERROR);
    this.owner.appEnd(this.trailers);
  };

  private readonly onDrain = (): void => {
    if (!this.done) this.owner.appReady();
  };

  private readonly onError = (error: Error): void => {
    this.lastError = error;
  };

  private readonly onClose = (): void => {
    const stream = this.stream;
    if (this.done || stream === null) return;
    if (this.responded && stream.readableEnded) return; // 'end' settles it
    const rstCode = stream.rstCode ?? constants.NGHTTP2_NO_ERROR;
    if (!this.responded && rstCode === constants.NGHTTP2_REFUSED_STREAM && this.kept !== null && this.refusals < MAX_REFUSED_RETRIES) {
      this.refusals += 1;
      this.open();
      return;
    }
    this.fail(streamFailure(this.lastError, rstCode));
  };
}

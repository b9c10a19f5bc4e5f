/**
 * One client request forwarded to the app: sends the head built in one piece, streams the body
 * both ways with backpressure, settles the breaker ticket once, retries safely (idempotent, no
 * body, nothing received, on a fresh connection), and turns failures before the response head into
 * the design's error responses; after the head, the client connection is aborted instead.
 */
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import type { BreakerTicket } from '../breaker.js';
import type { Reason } from '../contracts.js';
import { ExchangeEnd, type ExchangeOutcome, type OutcomeRecorder } from '../core/exchange-end.js';
import { afterResponseHead, FAILURES, statusFor, type BadGatewayError } from '../core/failures.js';
import type { Permit } from '../overload/limiter.js';
import { rawErrorResponse } from '../error-pages.js';
import { fieldIndex, fieldsOf, joinedFieldValues } from './head-fields.js';
import { hasControlCharacter, interimHead, switchingProtocolsHead, type ResponseFraming } from './heads.js';
import type { AppLink, AppRequest } from './app-link.js';
import { HEAD_BODY, HEAD_NO_BODY } from './llhttp.js';
import { ClientResponseHead } from './response-head.js';
import type { RouteState } from './route-state.js';
import { spliceTunnel } from './tunnel.js';
import type { ResponseHead, UpstreamUser } from './upstream-user.js';

/** What an exchange needs from the server that owns it. */
export interface ExchangeHost extends OutcomeRecorder {
  isDraining(): boolean;
}

/** What an exchange needs from the client connection it answers. */
export interface ExchangeClient {
  readonly socket: Socket;
  /** The client speaks HTTP/1.0: no chunked responses, no interim responses. */
  readonly http10: boolean;
  /** The client connection may carry another request after this one. */
  readonly keepAlive: boolean;
  exchangeFinished(close: boolean): void;
  /** The app's response broke after its head went out: the client connection is aborted, on the app's account. */
  abortForApp(): void;
  resumeReading(): void;
  /** A 101 arrived: the client socket leaves HTTP, with the bytes the client sent after its head. */
  takeForTunnel(): Buffer | null;
}

export interface ExchangeRequest extends AppRequest {
  method: string;
  target: string;
  requestId: string;
  /** From a valid W3C traceparent, for the logs and error pages. */
  traceId: string | undefined;
  accept: string | undefined;
  /** The request head for an HTTP/1.1 app, as bytes. */
  head: Buffer;
  hasBody: boolean;
  chunked: boolean;
  upgrade: boolean;
  replayable: boolean;
  /** The client sent Expect: 100-continue (the sidecar answered it; the app's 100 is dropped). */
  expectContinue: boolean;
}


/**
 * A body piece up to this size goes out in one buffer with the head or chunk framing around it:
 * copying a few KiB costs less than Node's corked multi-part write (an array of chunks, a writev).
 */
const JOIN_LIMIT = 16_384;

/** The head (if still held back), a chunk's size line when `chunked`, the piece and the chunk's CRLF, in one new buffer. */
function joined(head: ClientResponseHead | null, piece: Buffer, chunked: boolean): Buffer {
  const sizeLine = chunked ? `${piece.length.toString(16)}\r\n` : '';
  const out = Buffer.allocUnsafe((head?.length ?? 0) + sizeLine.length + piece.length + (chunked ? 2 : 0));
  let at = head === null ? 0 : head.writeInto(out, 0);
  if (chunked) at += out.write(sizeLine, at, 'latin1');
  at += piece.copy(out, at);
  if (chunked) CRLF.copy(out, at);
  return out;
}

const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);

export class Exchange implements UpstreamUser {
  private upstream: AppLink | null = null;
  private readonly end: ExchangeEnd;
  private attempts = 0;
  private status = 0;
  /** The response head was decided (and written or pending): failures now abort the client. */
  private responded = false;
  private pendingHead: ClientResponseHead | null = null;
  private switchingHead: string | null = null;
  private framing: ResponseFraming = 'none';
  private closeAfter = false;
  private requestDone = false;

  constructor(
    private readonly host: ExchangeHost,
    private readonly client: ExchangeClient,
    private readonly state: RouteState,
    private readonly request: ExchangeRequest,
    ticket: BreakerTicket,
    permit: Permit,
  ) {
    this.end = new ExchangeEnd(host, request, ticket, permit);
  }

  private get finished(): boolean {
    return this.end.isFinished;
  }

  start(): void {
    this.send(false);
  }

  private send(fresh: boolean): void {
    const upstream = this.state.app.acquire(fresh, this.request.upgrade, this.request);
    this.upstream = upstream;
    upstream.start(this, this.request.head, this.request.hasBody, this.state.deadlines);
  }

  /** A piece of the request body; false asks the client to stop reading until resumeReading(). */
  requestBody(piece: Buffer): boolean {
    const upstream = this.upstream;
    if (upstream === null || this.finished) return true;
    return this.request.chunked ? upstream.writeChunk(piece) : upstream.write(piece);
  }

  requestEnd(): void {
    this.requestDone = true;
    const upstream = this.upstream;
    if (upstream === null || this.finished) return;
    upstream.requestComplete(this.request.chunked ? LAST_CHUNK : EMPTY);
  }

  /** Whether the response head was decided: a failure now can only abort the client connection. */
  hasAnswered(): boolean {
    return this.responded;
  }

  /**
   * The client's connection closed or failed before the exchange ended; `answered` is the status
   * and reason it was given (a 408 for a stalled body...), if any. Never the app's fault.
   */
  clientGone(answered?: { status: number; reason: Reason }): void {
    if (this.finished) return;
    this.upstream?.abandon();
    this.upstream = null;
    this.end.finish({ status: answered?.status ?? null, reason: answered?.reason ?? '', appFailed: false });
  }

  onClientDrain(): void {
    this.upstream?.resume();
  }

  onUpstreamDrain(): void {
    this.client.resumeReading();
  }

  onInterim(parser: ResponseHead): boolean {
    if (hasControlCharacter(parser.statusText, true)) return false;
    // A 100 answers an Expect the sidecar already answered itself, or none at all (RFC 9110
    // §15.2: a client parses 1xx it did not expect): dropped either way.
    if (parser.statusCode === 100) return true;
    if (!this.client.http10) this.client.socket.write(interimHead(parser.statusCode, parser.statusText, parser.headers), 'latin1');
    return true;
  }

  /** The status the client was (or is being) sent. */
  answeredStatus(): number {
    return this.status;
  }

  onResponseHead(parser: ResponseHead): number {
    const status = parser.statusCode;
    if (status < 100 || status > 599 || hasControlCharacter(parser.statusText, true)) return -1;
    const fields = parser.fields ?? fieldsOf(parser.headers);
    // A 101 only to an upgrade request, and naming its protocol (RFC 9110 §15.2.2).
    if (status === 101 && (!this.request.upgrade || fieldIndex(fields, 'upgrade') < 0)) return -1;
    const codings = joinedFieldValues(fields, 'transfer-encoding');
    // The sidecar decodes chunked only and must not pass coded bytes on as plain.
    if (codings !== undefined && codings.trim().toLowerCase() !== 'chunked') return -1;
    this.status = status;
    this.responded = true;
    this.end.permit.responded();
    this.host.metrics.upstreamDuration(this.end.elapsedMs() / 1000);
    if (this.attempts > 0) this.host.metrics.reusedSocketFailure();
    if (status === 101) {
      this.switchingHead = switchingProtocolsHead(parser.statusText, parser.headers, this.request.requestId);
      return HEAD_BODY;
    }
    const noBody = this.request.method === 'HEAD' || status === 204 || status === 304;
    const client = this.client;
    if (noBody) this.framing = 'none';
    else if (fieldIndex(fields, 'content-length') >= 0) this.framing = 'length';
    else this.framing = client.http10 ? 'eof' : 'chunked';
    // Any other answer to an upgrade request ends the client connection: what the client sent
    // after its head was meant for the new protocol.
    this.closeAfter = this.host.isDraining() || !client.keepAlive || this.framing === 'eof' || this.request.upgrade;
    this.pendingHead = new ClientResponseHead(status, parser.statusText, fields, this.request.requestId, this.framing, this.closeAfter ? 'close' : client.http10 ? 'keep-alive' : '');
    return this.request.method === 'HEAD' ? HEAD_NO_BODY : HEAD_BODY;
  }

  /**
   * A piece of the app's body. Unless `owned`, it is a view into the upstream's reused read
   * buffer, valid only during this call, and a write Node cannot finish at once keeps the bytes it
   * was given: so what is written is a copy. Small pieces go out in one buffer with what precedes
   * (the held-back head, a chunk size line) and follows them; large ones alone.
   */
  onResponseBody(piece: Buffer, owned: boolean): void {
    if (this.finished) return;
    const socket = this.client.socket;
    const head = this.pendingHead;
    this.pendingHead = null;
    const chunked = this.framing === 'chunked';
    let more: boolean;
    if (piece.length <= JOIN_LIMIT) {
      more = socket.write(joined(head, piece, chunked));
    } else {
      socket.cork();
      if (head !== null) socket.write(head.toBuffer());
      if (chunked) socket.write(`${piece.length.toString(16)}\r\n`, 'latin1');
      more = socket.write(owned ? piece : Buffer.from(piece));
      if (chunked) more = socket.write(CRLF);
      socket.uncork();
    }
    if (!more) this.upstream?.pause();
  }

  /** The end of one read from the app: a head still held back goes out now. */
  onChunkParsed(): void {
    if (this.pendingHead === null || this.finished) return;
    this.client.socket.write(this.pendingHead.toBuffer());
    this.pendingHead = null;
  }

  onResponseEnd(grpcStatus?: number): void {
    if (this.finished) return;
    const socket = this.client.socket;
    if (this.pendingHead !== null) {
      socket.write(this.pendingHead.toBuffer(this.framing === 'chunked' ? LAST_CHUNK : null));
      this.pendingHead = null;
    } else if (this.framing === 'chunked') {
      socket.write(LAST_CHUNK);
    }
    this.upstream = null;
    const appFailed = this.state.failureStatusCodes.has(this.status) || (grpcStatus !== undefined && this.state.failureGrpcCodes.has(grpcStatus));
    this.complete({ status: this.status, reason: '', appFailed }, this.closeAfter || !this.requestDone);
  }

  onUpgrade(upstreamSocket: Socket, rest: Buffer): void {
    this.upstream = null;
    if (this.finished) {
      upstreamSocket.destroy();
      return;
    }
    this.client.socket.write(this.switchingHead ?? '', 'latin1');
    const early = this.client.takeForTunnel();
    spliceTunnel(this.client.socket, upstreamSocket, rest, early);
    this.end.finish({ status: 101, reason: '', appFailed: false });
  }

  onUpstreamError(error: BadGatewayError, received: boolean): void {
    this.upstream = null;
    if (this.finished) return;
    if (this.responded && this.pendingHead === null) {
      // The head is gone: never let a truncated body look complete.
      const kind = afterResponseHead(error.kind);
      this.end.finish({ status: this.status, reason: FAILURES[kind].reason, appFailed: FAILURES[kind].countsAgainstApp, error });
      this.client.abortForApp();
      return;
    }
    const failure = error.failure;
    if (!received && failure.retriable && this.request.replayable && this.attempts < this.state.retryAttempts) {
      this.attempts += 1;
      this.send(true);
      return;
    }
    if (error.kind === 'response-timeout') this.end.permit.responded(); // a slow app is what the limiter must see
    if (!this.responded) this.host.metrics.upstreamDuration(this.end.elapsedMs() / 1000);
    this.pendingHead = null;
    const status = statusFor(error.kind, this.state.config);
    const close = this.host.isDraining() || !this.client.keepAlive || !this.requestDone || this.request.upgrade;
    this.client.socket.write(rawErrorResponse(this.state.pages, this.request.accept, {
      status,
      reason: error.reason,
      proxyError: error.proxyError,
      requestId: this.request.requestId,
      traceId: this.request.traceId,
      close,
    }, this.request.method === 'HEAD'));
    this.complete({ status, reason: error.reason, appFailed: failure.countsAgainstApp, error }, close);
  }

  private complete(outcome: ExchangeOutcome, close: boolean): void {
    this.end.finish(outcome);
    this.client.exchangeFinished(close);
  }
}

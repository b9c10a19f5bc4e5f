/**
 * A request to an HTTP/1.1 app through the upstream pool (sidecar/http1/), for a client that spoke
 * HTTP/2: the head built by the same hygiene as HTTP/1.1 requests, a body without a length sent
 * chunked, one safe retry on a fresh connection as the HTTP/1.1 exchange does.
 */
import type { Socket } from 'node:net';
import type { BadGatewayError } from '../core/failures.js';
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE, headerValue, upstreamRequestHead } from '../http1/heads.js';
import { HEAD_BODY, HEAD_NO_BODY } from '../http1/llhttp.js';
import type { UpstreamConnection } from '../http1/upstream-connection.js';
import type { UpstreamPool } from '../http1/upstream-pool.js';
import type { ResponseHead, UpstreamUser } from '../http1/upstream-user.js';
import type { AppCall, AppCallOwner, AppRequest } from './app-call.js';
import { clientHeadersFromHttp1, withoutPseudoHeaders } from './headers.js';

const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);

export class Http1AppCall implements AppCall, UpstreamUser {
  private upstream: UpstreamConnection | null = null;
  private readonly head: string;
  private readonly chunked: boolean;
  private attempts = 0;
  private done = false;

  constructor(private readonly owner: AppCallOwner, private readonly pool: UpstreamPool, private readonly request: AppRequest, private readonly retryAttempts: number) {
    this.chunked = request.hasBody && request.contentLength === undefined;
    this.head = upstreamRequestHead({
      method: request.method,
      target: request.path,
      headers: withoutPseudoHeaders(request.raw), // an HTTP/2 client's list has them
      authority: request.authority,
      requestId: request.requestId,
      clientAddress: request.clientAddress,
      bodyFraming: this.chunked ? BODY_CHUNKED : request.hasBody ? BODY_LENGTH : BODY_NONE,
      upgrade: false,
      trustForwarded: request.trustForwarded,
    });
  }

  start(): void {
    this.send(false);
  }

  private send(fresh: boolean): void {
    const pool = this.pool;
    const upstream = pool.acquire(fresh);
    this.upstream = upstream;
    upstream.start(this, this.head, this.request.hasBody, pool.deadlines);
  }

  body(piece: Buffer): boolean {
    const upstream = this.upstream;
    if (upstream === null || this.done) return true;
    return this.chunked ? upstream.writeChunk(piece) : upstream.write(piece);
  }

  end(): void {
    if (this.request.hasBody && !this.done) this.upstream?.requestComplete(this.chunked ? LAST_CHUNK : EMPTY);
  }

  cancel(): void {
    this.done = true;
    this.upstream?.abandon();
    this.upstream = null;
  }

  pause(): void {
    this.upstream?.pause();
  }

  resume(): void {
    this.upstream?.resume();
  }

  // UpstreamUser

  onResponseHead(parser: ResponseHead): number {
    const status = parser.statusCode;
    if (status < 200 || status > 599) return -1;
    const codings = headerValue(parser.headers, 'transfer-encoding');
    if (codings !== undefined && codings.trim().toLowerCase() !== 'chunked') return -1;
    const keepLength = codings === undefined && headerValue(parser.headers, 'content-length') !== undefined;
    this.owner.appHead(status, clientHeadersFromHttp1(status, parser.headers, this.request.requestId, keepLength), undefined, false);
    return this.request.method === 'HEAD' ? HEAD_NO_BODY : HEAD_BODY;
  }

  /** Interim answers have no place in the translated response (the sidecar drops Expect). */
  onInterim(): boolean {
    return true;
  }

  onResponseBody(piece: Buffer, owned: boolean): void {
    if (this.done) return;
    if (!this.owner.appBody(owned ? piece : Buffer.from(piece))) this.upstream?.pause();
  }

  onChunkParsed(): void {
    // Nothing is held back: an HTTP/2 head goes out as its own frame.
  }

  onResponseEnd(): void {
    this.upstream = null;
    if (this.done) return;
    this.done = true;
    this.owner.appEnd(undefined);
  }

  onUpgrade(socket: Socket): void {
    socket.destroy(); // never asked for: requests from HTTP/2 clients carry no Upgrade
  }

  onUpstreamError(error: BadGatewayError, received: boolean): void {
    this.upstream = null;
    if (this.done) return;
    if (!received && error.failure.retriable && this.request.replayable && this.attempts < this.retryAttempts) {
      this.attempts += 1;
      this.send(true);
      return;
    }
    this.done = true;
    this.owner.appFailed(error);
  }

  onUpstreamDrain(): void {
    this.owner.appReady();
  }
}

/**
 * An HTTP/1.1 client's exchange (sidecar/http1/exchange.ts) with an h2c app: the exchange drives
 * this link as it drives a pooled connection, and hears the app's stream (H2AppCall) as it hears
 * an HTTP/1.1 response. So the HTTP/1.1 answer — framing, head hygiene, error pages, an aborted
 * connection after a broken body — is the exchange's own; only the app's side is HTTP/2 here.
 */
import { STATUS_CODES } from 'node:http';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { BadGatewayError } from '../core/failures.js';
import type { AppLink, AppLinks, AppRequest, LinkDeadlines } from '../http1/app-link.js';
import type { ResponseHead, UpstreamUser } from '../http1/upstream-user.js';
import type { AppCallOwner } from './app-call.js';
import type { AppSessions } from './app-sessions.js';
import { grpcStatusOf } from './grpc.js';
import { H2AppCall } from './h2-app-call.js';
import { rawListOf } from './headers.js';

export class H2cLinks implements AppLinks {
  constructor(private readonly sessions: AppSessions) {}

  acquire(_fresh: boolean, _upgrade: boolean, request: AppRequest): AppLink {
    return new H2cLink(this.sessions, request);
  }
}

class H2cLink implements AppLink, AppCallOwner {
  private call: H2AppCall | null = null;
  private user: UpstreamUser | null = null;
  private responded = false;
  private headGrpcStatus: number | undefined;

  constructor(private readonly sessions: AppSessions, private readonly request: AppRequest) {}

  start(user: UpstreamUser, _head: string, _withBody: boolean, deadlines: LinkDeadlines): void {
    this.user = user;
    this.call = new H2AppCall(this, this.sessions, this.request, deadlines);
    this.call.start();
  }

  write(piece: Buffer): boolean {
    return this.call?.body(piece) ?? true;
  }

  writeChunk(piece: Buffer): boolean {
    return this.write(piece);
  }

  requestComplete(): void {
    this.call?.end();
  }

  abandon(): void {
    this.user = null;
    this.call?.cancel();
  }

  pause(): void {
    this.call?.pause();
  }

  resume(): void {
    this.call?.resume();
  }

  // AppCallOwner: the app's stream, told to the exchange in HTTP/1.1's terms.

  appHead(status: number, _headers: OutgoingHttpHeaders, incoming: IncomingHttpHeaders | undefined): void {
    const user = this.user;
    if (user === null || incoming === undefined) return;
    this.responded = true;
    this.headGrpcStatus = grpcStatusOf(incoming);
    const head: ResponseHead = { statusCode: status, statusText: STATUS_CODES[status] ?? '', headers: rawListOf(incoming) };
    if (user.onResponseHead(head) < 0) {
      this.call?.cancel();
      this.user = null;
      user.onUpstreamError(new BadGatewayError('invalid-response', `the app's response head (status ${status}) cannot be passed on`), true);
      return;
    }
    user.onChunkParsed();
  }

  appBody(piece: Buffer): boolean {
    this.user?.onResponseBody(piece, true);
    return true; // the exchange pauses this link itself when the client is slow
  }

  appEnd(trailers: IncomingHttpHeaders | undefined): void {
    const user = this.user;
    this.user = null;
    user?.onResponseEnd(grpcStatusOf(trailers) ?? this.headGrpcStatus);
  }

  appFailed(error: BadGatewayError): void {
    const user = this.user;
    this.user = null;
    user?.onUpstreamError(error, this.responded);
  }

  appReady(): void {
    this.user?.onUpstreamDrain();
  }
}

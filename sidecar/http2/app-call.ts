/**
 * One request to the app, whatever the app speaks (HTTP/1.1 through the upstream pool, or a stream
 * on an h2c session), seen from the exchange that answers the client. The call owns the app-side
 * timeouts and safe retries; the exchange owns the client, the breaker ticket and the answer.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import type { BadGatewayError } from '../core/failures.js';
import type { AppRequest } from '../http1/app-link.js';

export type { AppRequest };

/** What a call reports, in order: at most one head, body pieces, then an end or a failure. */
export interface AppCallOwner {
  /**
   * The app's final response head, its headers already cleaned for an HTTP/2 client; `endStream`:
   * nothing follows it (a gRPC Trailers-Only answer, which must stay one).
   */
  appHead(status: number, headers: OutgoingHttpHeaders, incoming: IncomingHttpHeaders | undefined, endStream: boolean): void;
  /** A piece of the body (the owner may keep it); false asks for a pause until resume(). */
  appBody(piece: Buffer): boolean;
  /** The response ended cleanly, with the app's trailers if it sent any. */
  appEnd(trailers: IncomingHttpHeaders | undefined): void;
  /** Failed; after a head, the owner must not let the response look complete. */
  appFailed(error: BadGatewayError): void;
  /** The app takes request body again after body() returned false. */
  appReady(): void;
}

export interface AppCall {
  start(): void;
  /** A piece of the request body; false: stop reading the client until appReady(). */
  body(piece: Buffer): boolean;
  /** The request is complete; the response timeout runs from here. */
  end(): void;
  /** The exchange is over without the app's answer (client gone, deadline): free what the call holds. */
  cancel(): void;
  pause(): void;
  resume(): void;
}

/** What an upstream connection reports to the exchange using it. */
import type { Socket } from 'node:net';
import type { BadGatewayError } from '../core/failures.js';
import type { HeaderFields } from './head-fields.js';

/** A response head as the app sent it (the parser after a head, or an h2c app's translated). */
export interface ResponseHead {
  readonly statusCode: number;
  readonly statusText: string;
  /** [name, value, ...] as received. */
  readonly headers: readonly string[];
  /** The same fields without a string each (the HTTP/1.1 parser's), read instead of `headers` where given. */
  readonly fields?: HeaderFields;
}

/** What the connection reports to the exchange using it. */
export interface UpstreamUser {
  /** The final response head; returns HEAD_BODY, HEAD_NO_BODY or -1 to refuse it (invalid-response). */
  onResponseHead(head: ResponseHead): number;
  /** An interim 1xx response (not 101); false refuses it (invalid-response). */
  onInterim(head: ResponseHead): boolean;
  /**
   * A piece of body. `owned`: it lies in a buffer read for it alone, which may be kept (written
   * as is); otherwise it is a view into a read buffer reused once this returns: copy what is kept.
   */
  onResponseBody(piece: Buffer, owned: boolean): void;
  /** The response ended cleanly; `grpcStatus` from an h2c app's trailers (or Trailers-Only head), if any. */
  onResponseEnd(grpcStatus?: number): void;
  /** A 101: the socket is the exchange's now, with the bytes that followed the head. */
  onUpgrade(socket: Socket, rest: Buffer): void;
  /** Failed; `received` tells whether any response byte arrived. */
  onUpstreamError(error: BadGatewayError, received: boolean): void;
  onUpstreamDrain(): void;
  /** One read from the app was parsed (a head held back to join its body goes out now). */
  onChunkParsed(): void;
}

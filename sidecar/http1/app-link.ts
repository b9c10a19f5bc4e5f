/**
 * An exchange's way to the app, whatever the app speaks: a connection from the HTTP/1.1 pool
 * (UpstreamConnection), or a stream on an h2c session (sidecar/http2/h2c-link.ts). The exchange
 * drives it the same way and hears back through UpstreamUser; only the link knows the app's framing.
 */
import type { Deadlines } from '../core/deadlines.js';
import type { UpstreamUser } from './upstream-user.js';

/** What any link needs to know of the request, besides the HTTP/1.1 head only the pool's links send. */
export interface AppRequest {
  readonly method: string;
  /** The origin-form target. */
  readonly path: string;
  readonly authority: string;
  /**
   * The client's headers as [name, value, ...]; each link applies the header hygiene for its app.
   * For an HTTP/1.1 client it is the parser's list: read it in start(), before parsing goes on.
   */
  readonly raw: readonly string[];
  readonly requestId: string;
  readonly clientAddress: string;
  /** A body follows the head (possibly empty). */
  readonly hasBody: boolean;
  readonly contentLength: string | undefined;
  /** Safe to send again after a connection failure with no response byte (idempotent, no body). */
  readonly replayable: boolean;
  /** The client is a trusted proxy (policy trustedProxies): its X-Forwarded-Proto and -Host are kept. */
  readonly trustForwarded: boolean;
}

export type LinkDeadlines = Pick<Deadlines, 'connectMs' | 'responseMs' | 'responseBodyIdleMs'>;

export interface AppLink {
  /** Sends the request's head (`head` for an HTTP/1.1 app); with a body, write it, then requestComplete(). */
  start(user: UpstreamUser, head: string | Buffer, withBody: boolean, deadlines: LinkDeadlines): void;
  /** A piece of a body with a length; false asks the writer to wait for onUpstreamDrain(). */
  write(piece: Buffer): boolean;
  /** A piece of a body without a length: a chunk for an HTTP/1.1 app, plain data where the protocol frames it. */
  writeChunk(piece: Buffer): boolean;
  /** The request is complete; `tail` is HTTP/1.1's last framing bytes (the last chunk), which HTTP/2's end of stream replaces. */
  requestComplete(tail: Buffer): void;
  /** The exchange stopped using the link before its end (client gone): nothing more is reported. */
  abandon(): void;
  pause(): void;
  resume(): void;
}

/** Where an exchange's links come from: the HTTP/1.1 pool, or the h2c sessions. */
export interface AppLinks {
  /** `fresh` after a retriable failure (never a reused connection); `upgrade` for a request that may become a tunnel. */
  acquire(fresh: boolean, upgrade: boolean, request: AppRequest): AppLink;
}

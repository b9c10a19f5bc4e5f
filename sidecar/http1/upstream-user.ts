/** What an upstream connection reports to the exchange using it. */
import type { Socket } from 'node:net';
import type { BadGatewayError } from '../core/failures.js';
import type { HttpParser } from './llhttp.js';

/** What the connection reports to the exchange using it. */
export interface UpstreamUser {
  /** The final response head; returns HEAD_BODY, HEAD_NO_BODY or -1 to refuse it (invalid-response). */
  onResponseHead(parser: HttpParser): number;
  /** An interim 1xx response (not 101); false refuses it (invalid-response). */
  onInterim(parser: HttpParser): boolean;
  /**
   * A piece of body. `owned`: it lies in a buffer read for it alone, which may be kept (written
   * as is); otherwise it is a view into a read buffer reused once this returns: copy what is kept.
   */
  onResponseBody(piece: Buffer, owned: boolean): void;
  onResponseEnd(): void;
  /** A 101: the socket is the exchange's now, with the bytes that followed the head. */
  onUpgrade(socket: Socket, rest: Buffer): void;
  /** Failed; `received` tells whether any response byte arrived. */
  onUpstreamError(error: BadGatewayError, received: boolean): void;
  onUpstreamDrain(): void;
  /** One read from the app was parsed (a head held back to join its body goes out now). */
  onChunkParsed(): void;
}

/**
 * What the sidecar reads and writes of gRPC over HTTP/2 (grpc/grpc PROTOCOL-HTTP2.md): the
 * content type that marks a call, `grpc-timeout`, `grpc-status` and the percent-encoded
 * `grpc-message`. Message framing is the app's and the client's; the sidecar never parses it.
 */
import type { IncomingHttpHeaders } from 'node:http2';

export function isGrpc(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.startsWith('application/grpc');
}

const TIMEOUT = /^(\d{1,8})([HMSmun])$/;
const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };

/** Milliseconds of a `grpc-timeout` value; undefined when absent or malformed (then it is ignored). */
export function grpcTimeoutMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = TIMEOUT.exec(value);
  if (match === null) return undefined;
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/** Percent-encodes what the protocol says: every byte outside 0x20–0x7E, and `%` itself. */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte < 0x20 || byte > 0x7e || byte === 0x25 ? `%${byte.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(byte);
  }
  return out;
}

/** The `grpc-status` in trailers (or Trailers-Only headers), or undefined when none is valid. */
export function grpcStatusOf(headers: IncomingHttpHeaders | undefined): number | undefined {
  const value = headers?.['grpc-status'];
  if (typeof value !== 'string' || !/^\d{1,2}$/.test(value)) return undefined;
  return Number(value);
}

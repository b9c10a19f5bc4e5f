/**
 * The answers the sidecar makes itself on an HTTP/2 stream: the error page (body chosen by
 * ErrorPages, like HTTP/1.1's), or for a gRPC call a Trailers-Only response — `:status 200`,
 * `grpc-status` from the failure table's gRPC column, `grpc-message`, and the same
 * `x-badgateway-reason` and Proxy-Status; `grpc-retry-pushback-ms` on fast failures (gRFC A6).
 */
import type { OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Reason } from '../contracts.js';
import { explanationOf, type ErrorPages } from '../error-pages.js';
import { GRPC_STATUS, type ProxyErrorType } from '../errors.js';
import { encodeGrpcMessage } from './grpc.js';

export interface StreamAnswer {
  status: number;
  reason: Reason;
  proxyError: ProxyErrorType;
  requestId: string;
  traceId: string | undefined;
  accept: string | undefined;
  /** Retry-After seconds on fast failures; their gRPC form is `pushbackMs`. */
  retryAfterSeconds?: number;
  pushbackMs?: number;
}

/** A gRPC status message: what went wrong, and the request id to find it in the logs. */
function grpcMessage(answer: StreamAnswer): string {
  return encodeGrpcMessage(`badgateway ${answer.reason}: ${explanationOf(answer.reason)} (request id ${answer.requestId})`);
}

/** The gRPC status, message and badgateway fields of an answer: Trailers-Only headers, or trailers after a head. */
export function grpcStatusFields(answer: StreamAnswer): OutgoingHttpHeaders {
  const fields: OutgoingHttpHeaders = {
    'grpc-status': String(GRPC_STATUS[answer.reason]),
    'grpc-message': grpcMessage(answer),
    'x-badgateway-reason': answer.reason,
    'proxy-status': `badgateway; error=${answer.proxyError}`,
  };
  if (answer.pushbackMs !== undefined) fields['grpc-retry-pushback-ms'] = String(Math.max(0, Math.round(answer.pushbackMs)));
  return fields;
}

/** Answers the stream, unless it is gone; the HEAD method's answer has no body. */
export function answerStream(stream: ServerHttp2Stream, pages: ErrorPages, answer: StreamAnswer, grpc: boolean, headOnly: boolean): void {
  if (stream.destroyed || stream.headersSent) return;
  if (grpc) {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-request-id': answer.requestId, ...grpcStatusFields(answer) }, { endStream: true });
    return;
  }
  const { contentType, body } = pages.render(answer.status, answer.reason, answer.requestId, answer.accept, answer.traceId);
  const headers: OutgoingHttpHeaders = {
    ':status': answer.status,
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-request-id': answer.requestId,
    'x-badgateway-reason': answer.reason,
    'proxy-status': `badgateway; error=${answer.proxyError}`,
  };
  if (answer.retryAfterSeconds !== undefined) headers['retry-after'] = String(answer.retryAfterSeconds);
  if (headOnly) {
    stream.respond(headers, { endStream: true });
    return;
  }
  stream.respond(headers);
  stream.end(body);
}

/**
 * The answers the sidecar makes itself on an HTTP/2 stream: the error page (body chosen by
 * ErrorPages, like HTTP/1.1's), or for a gRPC call a Trailers-Only response — `:status 200`,
 * `grpc-status` from the failure table's gRPC column, `grpc-message`, and the same
 * `x-badgateway-reason` and Proxy-Status; `grpc-retry-pushback-ms` on fast failures (gRFC A6).
 */
import type { OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { FAILURES, type FailureKind } from '../core/failures.js';
import { explanationOf, type ErrorPages } from '../error-pages.js';
import { encodeGrpcMessage } from './grpc.js';

export interface StreamAnswer {
  kind: FailureKind;
  status: number;
  requestId: string;
  traceId: string | undefined;
  accept: string | undefined;
  /** Retry-After seconds on fast failures; their gRPC form is `pushbackMs`. */
  retryAfterSeconds?: number;
  pushbackMs?: number;
}

/** A gRPC status message: what went wrong, and the request id to find it in the logs. */
function grpcMessage(answer: StreamAnswer): string {
  const reason = FAILURES[answer.kind].reason;
  return encodeGrpcMessage(`badgateway ${reason}: ${explanationOf(reason)} (request id ${answer.requestId})`);
}

/** The gRPC status, message and badgateway fields of an answer: Trailers-Only headers, or trailers after a head. */
export function grpcStatusFields(answer: StreamAnswer): OutgoingHttpHeaders {
  const failure = FAILURES[answer.kind];
  const fields: OutgoingHttpHeaders = {
    'grpc-status': String(failure.grpcStatus),
    'grpc-message': grpcMessage(answer),
    'x-badgateway-reason': failure.reason,
    'proxy-status': `badgateway; error=${failure.proxyError}`,
  };
  if (answer.pushbackMs !== undefined) fields['grpc-retry-pushback-ms'] = String(Math.max(0, Math.ceil(answer.pushbackMs)));
  return fields;
}

/** Answers the stream, unless it is gone; the HEAD method's answer has no body. */
export function answerStream(stream: ServerHttp2Stream, pages: ErrorPages, answer: StreamAnswer, grpc: boolean, headOnly: boolean): void {
  if (stream.destroyed || stream.headersSent) return;
  if (grpc) {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'x-request-id': answer.requestId, ...grpcStatusFields(answer) }, { endStream: true });
    return;
  }
  const failure = FAILURES[answer.kind];
  const { contentType, body } = pages.render(answer.status, failure.reason, answer.requestId, answer.accept, answer.traceId, { proxyError: failure.proxyError });
  const headers: OutgoingHttpHeaders = {
    ':status': answer.status,
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-request-id': answer.requestId,
    'x-badgateway-reason': failure.reason,
    'proxy-status': `badgateway; error=${failure.proxyError}`,
  };
  if (answer.retryAfterSeconds !== undefined) headers['retry-after'] = String(answer.retryAfterSeconds);
  if (headOnly) {
    stream.respond(headers, { endStream: true });
    return;
  }
  stream.respond(headers);
  stream.end(body);
}

/**
 * The failure table: every way a request can fail, one row each, one column per thing that
 * follows from it (reason, HTTP status, RFC 9209 Proxy-Status error, gRPC status, breaker effect,
 * retry). A failure is detected as a kind; everything else is looked up here, by every protocol.
 * A new failure reason is a new row (and a line in docs/errors.md, which a test checks).
 */
import type { SidecarConfig } from '../../api/schema.js';
import type { ClientConnectionErrorKind, Reason } from '../contracts.js';

/** RFC 9209 proxy error types the sidecar emits in Proxy-Status. */
export const PROXY_ERROR_TYPES = [
  'connection_refused',
  'connection_timeout',
  'destination_unavailable',
  'dns_error',
  'http_response_timeout',
  'http_protocol_error',
  'connection_terminated',
  'http_request_error',
  'connection_limit_reached',
] as const;
export type ProxyErrorType = (typeof PROXY_ERROR_TYPES)[number];

/**
 * The HTTP status of the answer: a number, the policy's field that sets it, or `detected` when the
 * place that found the failure knows it (the 4xx a request check chose, the app's status already
 * sent before a body failed).
 */
export type StatusRule = number | 'timeoutStatus' | 'openStatus' | 'detected';

/** gRPC status codes the sidecar answers with (DESIGN.md: 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED, 13 INTERNAL). */
export type GrpcStatus = 4 | 13 | 14;

export interface FailureRow {
  /** x-badgateway-reason and the metric label. */
  readonly reason: Reason;
  readonly status: StatusRule;
  readonly proxyError: ProxyErrorType;
  /** The Trailers-Only answer's grpc-status for a gRPC request (the HTTP/2 front end's column). */
  readonly grpcStatus: GrpcStatus;
  /** Whether the breaker counts it against the app; the client's own faults never are. */
  readonly countsAgainstApp: boolean;
  /** A fresh connection may not repeat it (the keep-alive race): retried where the request allows. */
  readonly retriable: boolean;
}

const row = (reason: Reason, status: StatusRule, proxyError: ProxyErrorType, grpcStatus: GrpcStatus, countsAgainstApp: boolean, retriable = false): FailureRow =>
  Object.freeze({ reason, status, proxyError, grpcStatus, countsAgainstApp, retriable });

export const FAILURES = Object.freeze({
  'connect-refused': row('connect-failed', 502, 'connection_refused', 14, true),
  'connect-timeout': row('connect-failed', 502, 'connection_timeout', 14, true),
  'dns-error': row('connect-failed', 502, 'dns_error', 14, true),
  unreachable: row('connect-failed', 502, 'destination_unavailable', 14, true),
  'response-timeout': row('timeout', 'timeoutStatus', 'http_response_timeout', 4, true),
  reset: row('reset', 502, 'connection_terminated', 14, true, true),
  'invalid-response': row('invalid-response', 502, 'http_protocol_error', 13, true),
  'circuit-open': row('circuit-open', 'openStatus', 'destination_unavailable', 14, false),
  overloaded: row('overloaded', 503, 'connection_limit_reached', 14, false),
  /** After the response head: the client connection is aborted, the status is the app's. */
  'body-truncated': row('body-truncated', 'detected', 'connection_terminated', 14, true),
  'body-timeout': row('body-timeout', 'detected', 'http_response_timeout', 4, true),
  'client-refused': row('client-refused', 'detected', 'http_request_error', 13, false),
  'client-timeout': row('client-timeout', 408, 'http_request_error', 4, false),
} satisfies Record<string, FailureRow>);

export type FailureKind = keyof typeof FAILURES;

/** Every reason the sidecar reports in x-badgateway-reason (docs/errors.md lists each). */
export const REASONS: readonly Reason[] = [...new Set(Object.values(FAILURES).map((failure) => failure.reason))];

/** Every kind of badgateway_client_connection_errors_total. */
export const CLIENT_CONNECTION_ERROR_KINDS: readonly ClientConnectionErrorKind[] = ['header-timeout', 'body-timeout', 'malformed', 'reset'];

/** The status the client gets for a failure, as the policy configures it; `detected` where the row says so. */
export function statusFor(kind: FailureKind, config: Readonly<SidecarConfig>, detected = 502): number {
  const status = FAILURES[kind].status;
  switch (status) {
    case 'timeoutStatus':
      return config.timeoutStatus;
    case 'openStatus':
      return config.openStatus;
    case 'detected':
      return detected;
    default:
      return status;
  }
}

/**
 * A failure of the app, or of the way to it, before the exchange ended: after a response head was
 * sent it can only abort the client connection, and a connection failure is then a truncated body.
 */
export function afterResponseHead(kind: FailureKind): FailureKind {
  return FAILURES[kind].reason === 'connect-failed' || kind === 'reset' ? 'body-truncated' : kind;
}

/** One error type for every failure the sidecar answers itself; its row in the table says the rest. */
export class BadGatewayError extends Error {
  override readonly name = 'BadGatewayError';

  constructor(readonly kind: FailureKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  get failure(): FailureRow {
    return FAILURES[this.kind];
  }

  get reason(): Reason {
    return FAILURES[this.kind].reason;
  }

  get proxyError(): ProxyErrorType {
    return FAILURES[this.kind].proxyError;
  }
}

/** What a socket's error code says happened; anything else on an open connection is a reset. */
const SOCKET_ERRORS: Readonly<Record<string, FailureKind>> = {
  ECONNREFUSED: 'connect-refused',
  ETIMEDOUT: 'connect-timeout',
  ENOTFOUND: 'dns-error',
  EAI_AGAIN: 'dns-error',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EADDRNOTAVAIL: 'unreachable',
};

/** A `net.Socket` error on the way to the app (before a response ended), as a BadGatewayError. */
export function socketFailure(error: Error): BadGatewayError {
  const code = (error as NodeJS.ErrnoException).code;
  const kind = code === undefined ? undefined : SOCKET_ERRORS[code];
  return new BadGatewayError(kind ?? 'reset', error.message, { cause: error });
}

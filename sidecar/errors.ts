/**
 * One error type for every failure the sidecar answers itself, and ONE function that maps a
 * socket, timeout or parser error to the design's reason, status and RFC 9209 Proxy-Status token.
 */
import type { SidecarConfig } from '../api/schema.js';
import type { ClientConnectionErrorKind, Reason } from './contracts.js';

/** Every reason the sidecar reports in x-badgateway-reason (the design's failure table). */
export const REASONS: readonly Reason[] = [
  'connect-failed', 'timeout', 'reset', 'invalid-response', 'circuit-open',
  'body-truncated', 'body-timeout', 'client-refused', 'client-timeout', 'overloaded',
];

/** Reasons that say the client, not the app, was at fault: never a breaker failure. */
export const CLIENT_REASONS: readonly Reason[] = ['client-refused', 'client-timeout'];

/** Every kind of badgateway_client_connection_errors_total. */
export const CLIENT_CONNECTION_ERROR_KINDS: readonly ClientConnectionErrorKind[] = ['header-timeout', 'body-timeout', 'malformed', 'reset'];

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

export class BadGatewayError extends Error {
  override readonly name = 'BadGatewayError';

  constructor(
    readonly reason: Reason,
    readonly proxyError: ProxyErrorType,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const CONNECT_ERRORS: Readonly<Record<string, ProxyErrorType>> = {
  ECONNREFUSED: 'connection_refused',
  UND_ERR_CONNECT_TIMEOUT: 'connection_timeout',
  ETIMEDOUT: 'connection_timeout',
  ENOTFOUND: 'dns_error',
  EAI_AGAIN: 'dns_error',
  EHOSTUNREACH: 'destination_unavailable',
  ENETUNREACH: 'destination_unavailable',
  EADDRNOTAVAIL: 'destination_unavailable',
};

const RESET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);

/** Maps any upstream failure that happened before a response head to a BadGatewayError. */
export function classifyUpstreamError(error: unknown): BadGatewayError {
  if (error instanceof BadGatewayError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.name === 'HTTPParserError') {
    return new BadGatewayError('invalid-response', 'http_protocol_error', message, { cause: error });
  }
  if (typeof code === 'string') {
    const connect = CONNECT_ERRORS[code];
    if (connect !== undefined) return new BadGatewayError('connect-failed', connect, message, { cause: error });
    if (code === 'UND_ERR_HEADERS_TIMEOUT') {
      return new BadGatewayError('timeout', 'http_response_timeout', message, { cause: error });
    }
    if (RESET_ERRORS.has(code)) return new BadGatewayError('reset', 'connection_terminated', message, { cause: error });
    if (code.startsWith('HPE_') || code === 'UND_ERR_HEADERS_OVERFLOW' || code === 'UND_ERR_INFO') {
      return new BadGatewayError('invalid-response', 'http_protocol_error', message, { cause: error });
    }
  }
  return new BadGatewayError('reset', 'connection_terminated', message, { cause: error });
}

export function circuitOpenError(): BadGatewayError {
  return new BadGatewayError('circuit-open', 'destination_unavailable', 'circuit open');
}

/** The status the client gets for a reason, as the policy configures it. */
export function statusFor(reason: Reason, config: Readonly<SidecarConfig>): number {
  switch (reason) {
    case 'timeout':
      return config.timeoutStatus;
    case 'circuit-open':
      return config.openStatus;
    case 'overloaded':
      return 503;
    default:
      return 502;
  }
}

/**
 * The gRPC status a gRPC client gets for each reason (the design's gRPC column; docs/errors.md):
 * 14 UNAVAILABLE where a retry elsewhere or later may succeed, 4 DEADLINE_EXCEEDED for time
 * running out, 13 INTERNAL where the bytes themselves were wrong.
 */
export const GRPC_STATUS: Readonly<Record<Reason, number>> = {
  'connect-failed': 14,
  reset: 14,
  'circuit-open': 14,
  overloaded: 14,
  timeout: 4,
  'invalid-response': 13,
  'body-truncated': 14,
  'body-timeout': 4,
  'client-refused': 13,
  'client-timeout': 4,
};

/** A connection-level failure that a fresh connection may not repeat (the keep-alive race). */
export function isRetriable(error: BadGatewayError): boolean {
  return error.reason === 'reset';
}

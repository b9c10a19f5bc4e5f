/** A checked request head turned into what an exchange forwards to the app. */
import type { ExchangeRequest } from './exchange.js';
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE, headerValue, isIdempotent, upstreamRequestHead } from './heads.js';
import type { HttpParser } from './llhttp.js';
import type { CheckedRequest } from './request-checks.js';

/**
 * `defaultAuthority` is the app's host[:port], the Host given to an HTTP/1.0 request that came
 * without one; `trustForwarded` says the client is a trusted proxy.
 */
export function forwardedRequest(parser: HttpParser, checked: CheckedRequest, http10: boolean, upgrade: boolean, requestId: string, traceId: string | undefined, clientAddress: string, defaultAuthority: string, trustForwarded: boolean): ExchangeRequest {
  const headers = parser.headers;
  const host = headerValue(headers, 'host');
  const contentLength = headerValue(headers, 'content-length');
  const head = upstreamRequestHead({
    method: parser.method,
    target: checked.target,
    headers,
    authority: checked.authority ?? (http10 && host === undefined ? defaultAuthority : undefined),
    requestId,
    clientAddress,
    bodyFraming: checked.chunked ? BODY_CHUNKED : contentLength === undefined ? BODY_NONE : BODY_LENGTH,
    upgrade,
    trustForwarded,
  });
  return {
    method: parser.method,
    target: parser.target,
    requestId,
    traceId,
    accept: headerValue(headers, 'accept'),
    head,
    hasBody: checked.hasBody,
    chunked: checked.chunked,
    upgrade,
    replayable: !checked.hasBody && !upgrade && isIdempotent(parser.method),
    expectContinue: checked.expectContinue && !http10,
    path: checked.target,
    authority: checked.authority ?? host ?? defaultAuthority,
    raw: headers,
    clientAddress,
    contentLength,
    trustForwarded,
  };
}

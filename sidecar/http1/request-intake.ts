/**
 * What becomes of a request head: the request checks (refuse with a 4xx), then admission (breaker
 * → limiter, sidecar/core/admission.ts): answered without the app, queued, or forwarded.
 */
import { admit, type AnswerWithoutAppKind } from '../core/admission.js';
import type { BreakerTicket } from '../breaker.js';
import type { Permit } from '../overload/limiter.js';
import type { ConnectionHost } from './connection-host.js';
import type { ExchangeRequest } from './exchange.js';
import { forwardedRequest } from './forwarded-request.js';
import { fieldValue } from './head-fields.js';
import { requestIdOf } from './heads.js';
import type { HttpParser } from './llhttp.js';
import { checkRequest, isRefusal } from './request-checks.js';
import type { RouteState } from './route-state.js';
import { traceIdOf } from './trace-context.js';

interface Head {
  readonly requestId: string;
  readonly traceId: string | undefined;
  readonly http10: boolean;
}

interface Admitted extends Head {
  /** A body is due from the client. */
  readonly hasBody: boolean;
  /** A body or a 100-continue is still due from the client: an answer without the app closes. */
  readonly bodyUnread: boolean;
}

export type Intake =
  | (Head & { readonly verdict: 'refuse'; readonly status: number })
  | (Admitted & { readonly verdict: 'answer'; readonly kind: AnswerWithoutAppKind })
  | (Admitted & { readonly verdict: 'wait'; readonly request: ExchangeRequest })
  | (Admitted & { readonly verdict: 'forward'; readonly request: ExchangeRequest; readonly ticket: BreakerTicket; readonly permit: Permit });

/** `trustedPeer`: the client is a trusted proxy, whose X-Forwarded-Proto/-Host are passed on. */
export function intake(host: ConnectionHost, state: RouteState, parser: HttpParser, clientAddress: string, trustedPeer: boolean): Intake {
  const fields = parser.fields;
  const requestId = requestIdOf(fieldValue(fields, 'x-request-id'));
  const traceId = traceIdOf(fieldValue(fields, 'traceparent'));
  const http10 = parser.versionMajor === 1 && parser.versionMinor === 0;
  const checked = checkRequest(parser.method, parser.target, parser.versionMajor, parser.versionMinor, fields);
  if (isRefusal(checked)) {
    // A version the sidecar does not speak is bytes it cannot parse as a request of its own.
    if (checked.status === 505) host.clientError('malformed', { detail: checked.detail, requestId });
    if (host.accessLog) host.logger.info({ method: parser.method, status: checked.status, reason: 'client-refused', detail: checked.detail, requestId }, 'request');
    return { verdict: 'refuse', status: checked.status, requestId, traceId, http10 };
  }
  const hasBody = checked.hasBody;
  const bodyUnread = hasBody || checked.expectContinue;
  const upgrade = parser.upgrade && !http10;
  const admission = admit(state.breaker, host.limiter, parser.target, upgrade);
  if (admission.verdict === 'answer') return { verdict: 'answer', kind: admission.kind, requestId, traceId, http10, hasBody, bodyUnread };
  const request = forwardedRequest(parser, checked, http10, upgrade, requestId, traceId, clientAddress, host.upstreamAuthority, trustedPeer);
  if (admission.verdict === 'wait') return { verdict: 'wait', request, requestId, traceId, http10, hasBody, bodyUnread };
  return { verdict: 'forward', request, ticket: admission.ticket, permit: admission.permit, requestId, traceId, http10, hasBody, bodyUnread };
}

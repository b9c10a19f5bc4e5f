/**
 * The open circuit's or the limiter's answer to a request the app never sees: written, counted
 * and (sampled) access-logged here; the connection decides whether it then closes.
 */
import type { Socket } from 'node:net';
import type { AnswerWithoutAppKind } from '../core/admission.js';
import { FAILURES, statusFor } from '../core/failures.js';
import { rawErrorResponse } from '../error-pages.js';
import type { ConnectionHost } from './connection-host.js';
import { overloadRetryAfter, retryAfterFor, type RouteState } from './route-state.js';

export function answerWithoutApp(host: ConnectionHost, socket: Socket, state: RouteState, reason: AnswerWithoutAppKind, method: string, path: string, accept: string | undefined, requestId: string, traceId: string | undefined, close: boolean): void {
  const head = method === 'HEAD';
  const safe = head || method === 'GET';
  let status: number;
  if (reason === 'circuit-open') {
    status = statusFor('circuit-open', state.config);
    socket.write(state.openCircuit.answer(requestId, traceId, accept, retryAfterFor(state), close, head, safe));
  } else {
    status = statusFor('overloaded', state.config);
    socket.write(rawErrorResponse(state.pages, accept, {
      status, reason, proxyError: FAILURES.overloaded.proxyError, requestId, traceId, retryAfterSeconds: overloadRetryAfter(state), close, safe,
    }, head));
  }
  host.metrics.request(status, reason);
  if (host.accessLog) host.fastFailureLog.log(host.logger, { method, path, status, reason, requestId, traceId });
}

/**
 * The open circuit's or the limiter's answer to a request the app never sees: written, counted
 * and (sampled) access-logged here; the connection decides whether it then closes.
 */
import type { Socket } from 'node:net';
import type { Reason } from '../contracts.js';
import { rawErrorResponse } from '../error-pages.js';
import type { ConnectionHost } from './connection-host.js';
import { overloadRetryAfter, retryAfterFor, type RouteState } from './route-state.js';

export type AnswerWithoutAppReason = Extract<Reason, 'circuit-open' | 'overloaded'>;

export function answerWithoutApp(host: ConnectionHost, socket: Socket, state: RouteState, reason: AnswerWithoutAppReason, method: string, path: string, accept: string | undefined, requestId: string, traceId: string | undefined, close: boolean): void {
  const head = method === 'HEAD';
  const safe = head || method === 'GET';
  let status: number;
  if (reason === 'circuit-open') {
    status = state.config.openStatus;
    socket.write(state.openCircuit.answer(requestId, traceId, accept, retryAfterFor(state), close, head, safe));
  } else {
    status = 503;
    socket.write(rawErrorResponse(state.pages, accept, {
      status, reason, proxyError: 'connection_limit_reached', requestId, traceId, retryAfterSeconds: overloadRetryAfter(state), close, safe,
    }, head));
  }
  host.metrics.request(status, reason);
  if (host.accessLog) host.fastFailureLog.log(host.logger, { method, path, status, reason, requestId, traceId });
}

/**
 * WebSocket and other Upgrade requests: a raw TCP tunnel to the app once it is connected. A failed
 * connect counts against the breaker and is answered with the usual error response.
 */
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger, SidecarMetrics } from '../contracts.js';
import { rawErrorResponse } from '../error-pages.js';
import { circuitOpenError, classifyUpstreamError, statusFor } from '../errors.js';
import { requestIdOf, upstreamRequestHeaders } from './headers.js';
import { traceIdOf } from './trace-context.js';
import { retryAfterFor, type RouteState } from './route-state.js';

export function tunnelUpgrade(
  state: RouteState,
  upstream: URL,
  req: IncomingMessage,
  client: Duplex,
  head: Buffer,
  metrics: SidecarMetrics,
  logger: Logger,
): void {
  const requestId = requestIdOf(req.headers['x-request-id']);
  const traceId = traceIdOf(req.headers.traceparent);
  const ticket = state.breaker.admit();
  if (ticket === null) {
    const failure = circuitOpenError();
    const status = statusFor('circuit-open', state.config);
    client.end(rawErrorResponse(state.pages, req.headers.accept, {
      status, reason: failure.reason, proxyError: failure.proxyError, requestId, traceId, retryAfterSeconds: retryAfterFor(state),
    }));
    metrics.request(status, 'circuit-open');
    return;
  }
  const upstreamSocket: Socket = connect({ host: upstream.hostname.replace(/^\[|\]$/g, ''), port: Number(upstream.port === '' ? 80 : upstream.port) });
  const connectTimer = setTimeout(() => {
    upstreamSocket.destroy(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' }));
  }, state.pool.connectMs);
  connectTimer.unref();
  let connected = false;

  upstreamSocket.once('connect', () => {
    connected = true;
    clearTimeout(connectTimer);
    ticket.settle(true);
    const headers = upstreamRequestHeaders(req, requestId, true);
    let head0 = `${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1\r\n`;
    for (let index = 0; index < headers.length; index += 2) head0 += `${headers[index]}: ${headers[index + 1]}\r\n`;
    upstreamSocket.write(`${head0}\r\n`);
    if (head.length > 0) upstreamSocket.write(head);
    upstreamSocket.pipe(client);
    client.pipe(upstreamSocket);
    metrics.request(101, '');
    logger.info({ method: req.method, path: req.url, status: 101, requestId, traceId }, 'upgrade tunnelled');
  });
  upstreamSocket.once('error', (error) => {
    clearTimeout(connectTimer);
    if (connected) {
      client.destroy();
      return;
    }
    ticket.settle(false);
    const failure = classifyUpstreamError(error);
    const status = statusFor(failure.reason, state.config);
    client.end(rawErrorResponse(state.pages, req.headers.accept, { status, reason: failure.reason, proxyError: failure.proxyError, requestId, traceId }));
    metrics.request(status, failure.reason);
    logger.info({ method: req.method, path: req.url, status, reason: failure.reason, requestId, traceId }, 'upgrade failed');
  });
  client.once('error', () => upstreamSocket.destroy());
  client.once('close', () => upstreamSocket.destroy());
  upstreamSocket.once('close', () => client.destroy());
}

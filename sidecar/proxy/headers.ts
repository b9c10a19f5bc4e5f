/**
 * Header translation in one pass over Node's raw header list: hop-by-hop headers (RFC 9110 §7.6.1,
 * plus any named in Connection) are dropped, X-Forwarded-* set, X-Request-Id kept or generated.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** An incoming x-request-id is kept when it is short, visible ASCII; anything else is replaced. */
const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

export function requestIdOf(header: string | string[] | undefined): string {
  if (typeof header === 'string' && REQUEST_ID.test(header)) return header;
  return randomUUID();
}

function connectionTokens(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  // What nearly every client and app sends: nothing to look up per header.
  if (value === 'keep-alive' || value === 'close' || value === 'Keep-Alive') return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  const tokens = new Set<string>();
  for (const token of text.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '' && name !== 'close' && name !== 'keep-alive') tokens.add(name);
  }
  return tokens.size > 0 ? tokens : undefined;
}

/**
 * Request headers for the upstream as a flat [name, value, ...] list (undici's cheapest form).
 * `keepUpgrade` keeps Connection/Upgrade for WebSocket tunnelling.
 */
export function upstreamRequestHeaders(req: IncomingMessage, requestId: string, keepUpgrade = false): string[] {
  const raw = req.rawHeaders;
  const named = connectionTokens(req.headers.connection);
  const out: string[] = [];
  let forwardedFor: string | undefined;
  let forwardedProto = false;
  let forwardedHost = false;
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index] as string;
    const value = raw[index + 1] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (named !== undefined && named.has(lower))) {
      if (keepUpgrade && (lower === 'connection' || lower === 'upgrade')) out.push(name, value);
      continue;
    }
    switch (lower) {
      case 'x-request-id':
        continue;
      case 'x-forwarded-for':
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
        continue;
      case 'x-forwarded-proto':
        forwardedProto = true;
        break;
      case 'x-forwarded-host':
        forwardedHost = true;
        break;
    }
    out.push(name, value);
  }
  const clientAddress = req.socket.remoteAddress ?? 'unknown';
  out.push('x-forwarded-for', forwardedFor === undefined ? clientAddress : `${forwardedFor}, ${clientAddress}`);
  if (!forwardedProto) out.push('x-forwarded-proto', 'encrypted' in req.socket ? 'https' : 'http');
  if (!forwardedHost && req.headers.host !== undefined) out.push('x-forwarded-host', req.headers.host);
  out.push('x-request-id', requestId);
  return out;
}

/**
 * Response headers for the client as a flat [name, value, ...] list: hop-by-hop removed, request id
 * set, `Connection: close` added when draining. A new list rather than deletes on undici's object,
 * which would turn it into a slow dictionary-mode object for Node's header writer.
 */
export function clientResponseHeaders(headers: IncomingHttpHeaders, requestId: string, close: boolean): (string | string[])[] {
  const named = connectionTokens(headers.connection);
  const out: (string | string[])[] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || name === 'x-request-id' || (named !== undefined && named.has(name))) continue;
    out.push(name, value);
  }
  out.push('x-request-id', requestId);
  if (close) out.push('connection', 'close');
  return out;
}

/** Whether the request carries a body (and so cannot be replayed once streaming began). */
export function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export function isIdempotent(method: string | undefined): boolean {
  return method !== undefined && IDEMPOTENT.has(method);
}

/**
 * Header hygiene where HTTP/2 is on one side: the same rules as sidecar/http1/heads.ts (hop-by-hop
 * and Connection-named headers dropped, X-Forwarded-* set, X-Request-Id kept or generated,
 * traceparent untouched), producing node:http2 header objects or HTTP/1.1 heads from them.
 * Raw header lists are [name, value, name, value, ...], as llhttp and node:http2 give them.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { connectionTokens, HOP_BY_HOP } from '../http1/heads.js';

export interface RequestTarget {
  method: string;
  path: string;
  authority: string;
}

function add(headers: OutgoingHttpHeaders, name: string, value: string): void {
  const previous = headers[name];
  if (previous === undefined) headers[name] = value;
  else if (Array.isArray(previous)) previous.push(value);
  else headers[name] = [String(previous), value];
}

/** Headers an HTTP/2 message must not carry (RFC 9113 §8.2.2), or that the sidecar replaces. */
function dropped(lower: string, value: string, named: Set<string> | undefined): boolean {
  if (lower === 'te') return value.trim().toLowerCase() !== 'trailers';
  return HOP_BY_HOP.has(lower) || (named !== undefined && named.has(lower)) || lower === 'x-request-id';
}

/**
 * The request headers for an h2c app, from an HTTP/2 or HTTP/1.1 client's raw headers; a client's
 * X-Forwarded-Proto and -Host are kept only when `trustForwarded` (a trusted proxy).
 */
export function appRequestHeaders(raw: readonly string[], target: RequestTarget, requestId: string, clientAddress: string, trustForwarded: boolean): OutgoingHttpHeaders {
  const named = connectionTokens(raw);
  const headers: OutgoingHttpHeaders = { ':method': target.method, ':path': target.path, ':scheme': 'http', ':authority': target.authority };
  let forwardedFor: string | undefined;
  for (let index = 0; index < raw.length; index += 2) {
    const lower = (raw[index] as string).toLowerCase();
    const value = raw[index + 1] as string;
    if (lower.startsWith(':') || lower === 'host' || lower === 'expect' || dropped(lower, value, named)) continue;
    if (!trustForwarded && (lower === 'x-forwarded-proto' || lower === 'x-forwarded-host')) continue;
    if (lower === 'x-forwarded-for') forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
    else add(headers, lower, value);
  }
  headers['x-forwarded-for'] = forwardedFor === undefined ? clientAddress : `${forwardedFor}, ${clientAddress}`;
  if (headers['x-forwarded-proto'] === undefined) headers['x-forwarded-proto'] = 'http';
  if (headers['x-forwarded-host'] === undefined) headers['x-forwarded-host'] = target.authority;
  headers['x-request-id'] = requestId;
  return headers;
}

/** Response headers for an HTTP/2 client from an HTTP/1.1 app's raw head; Content-Length only when it frames the body. */
export function clientHeadersFromHttp1(status: number, raw: readonly string[], requestId: string, keepLength: boolean): OutgoingHttpHeaders {
  const named = connectionTokens(raw);
  const headers: OutgoingHttpHeaders = { ':status': status };
  for (let index = 0; index < raw.length; index += 2) {
    const lower = (raw[index] as string).toLowerCase();
    const value = raw[index + 1] as string;
    if (dropped(lower, value, named) || lower === 'te' || (lower === 'content-length' && !keepLength)) continue;
    add(headers, lower, value);
  }
  headers['x-request-id'] = requestId;
  return headers;
}

/** Response headers (or trailers, without a request id) for an HTTP/2 client from an h2c app's. */
export function clientHeadersFromHttp2(incoming: IncomingHttpHeaders, requestId: string | undefined): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const name of Object.keys(incoming)) {
    if (name === 'x-request-id' || (name.startsWith(':') && name !== ':status') || HOP_BY_HOP.has(name)) continue;
    headers[name] = incoming[name];
  }
  if (requestId !== undefined) headers['x-request-id'] = requestId;
  return headers;
}

/** A raw header list without its pseudo-headers (`:method`, `:path`...). */
export function withoutPseudoHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index] as string;
    if (!name.startsWith(':')) out.push(name, raw[index + 1] as string);
  }
  return out;
}

/** The raw [name, value, ...] list of a node:http2 header object, pseudo-headers left out. */
export function rawListOf(headers: IncomingHttpHeaders): string[] {
  const raw: string[] = [];
  for (const name of Object.keys(headers)) {
    if (name.startsWith(':')) continue;
    const value = headers[name];
    if (Array.isArray(value)) for (const one of value) raw.push(name, one);
    else if (value !== undefined) raw.push(name, value);
  }
  return raw;
}

/** The app's trailers for the client: pseudo-headers never appear in trailers. */
export function trailersFor(trailers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name of Object.keys(trailers)) if (!name.startsWith(':')) out[name] = trailers[name];
  return out;
}

/**
 * Message heads built as one string each, from the received fields (head-fields.ts): hop-by-hop headers
 * (RFC 9110 §7.6.1, plus those Connection may name) dropped both ways, X-Forwarded-For appended,
 * X-Forwarded-Proto/-Host set (kept as sent only from a trusted proxy),
 * X-Request-Id kept or generated, framing headers written by us for the body as we forward it.
 */
import { newRequestId } from '../core/request-id.js';
import { fieldIndex, fieldsOf, fieldValue, isHopByHopField, isNamed, joinedFieldValues, type HeaderFields } from './head-fields.js';
import { beginHead, headBytes, headText, put, putField, putFieldOf, putNamedValueOf } from './head-text.js';

export { isNamed };

export const HOP_BY_HOP: ReadonlySet<string> = new Set([
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

/**
 * Fields a `Connection` header can never make hop-by-hop: Host is end-to-end by definition (RFC
 * 9112 §3.2: every request carries it), and the rest are the sidecar's own (body framing,
 * X-Forwarded-*, the request id, the trace context it reads). What a client or an app nominates
 * never removes them; nginx ignores such nominations the same way.
 */
const NEVER_NOMINATED = new Set([
  'host',
  'content-length',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-request-id',
  'traceparent',
  'tracestate',
]);

/** An incoming x-request-id is kept when it is short, visible ASCII; anything else is replaced. */
const REQUEST_ID = /^[\x21-\x7e]{1,200}$/;

export function requestIdOf(header: string | undefined): string {
  if (header !== undefined && REQUEST_ID.test(header)) return header;
  return newRequestId();
}

/** The value of the first header named `lowerName` (exact lower-case match first, then any case). */
export function headerValue(headers: readonly string[], lowerName: string): string | undefined {
  for (let index = 0; index < headers.length; index += 2) {
    const name = headers[index] as string;
    if (name.length === lowerName.length && (name === lowerName || name.toLowerCase() === lowerName)) return headers[index + 1];
  }
  return undefined;
}

/** Whether `name` (any case) is one of HOP_BY_HOP, without making a lower-cased copy. */
export function isHopByHop(name: string): boolean {
  switch (name.length) {
    case 2: return isNamed(name, 'te');
    case 7: return isNamed(name, 'trailer') || isNamed(name, 'upgrade');
    case 10: return isNamed(name, 'connection') || isNamed(name, 'keep-alive');
    case 16: return isNamed(name, 'proxy-connection');
    case 17: return isNamed(name, 'transfer-encoding');
    case 18: return isNamed(name, 'proxy-authenticate');
    case 19: return isNamed(name, 'proxy-authorization');
    default: return false;
  }
}

/** Every value of `lowerName` joined with ", " (a list header sent as several lines). */
export function joinedValues(headers: readonly string[], lowerName: string): string | undefined {
  let joined: string | undefined;
  for (let index = 0; index < headers.length; index += 2) {
    const name = headers[index] as string;
    if (name.length !== lowerName.length || name.toLowerCase() !== lowerName) continue;
    const value = headers[index + 1] as string;
    joined = joined === undefined ? value : `${joined}, ${value}`;
  }
  return joined;
}

export function connectionTokens(headers: readonly string[]): Set<string> | undefined {
  return connectionTokensOf(joinedValues(headers, 'connection'));
}

/** The fields a Connection value nominates as hop-by-hop, lower-cased; undefined for none. */
export function connectionTokensOf(value: string | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  // What nearly every client and app sends: nothing to look up per header.
  if (value === 'keep-alive' || value === 'close' || value === 'Keep-Alive') return undefined;
  const tokens = new Set<string>();
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '' && name !== 'close' && name !== 'keep-alive' && !NEVER_NOMINATED.has(name)) tokens.add(name);
  }
  return tokens.size > 0 ? tokens : undefined;
}

/** How the forwarded request's body is framed. */
export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
export const BODY_CHUNKED = 2;

export interface RequestHeadInput {
  method: string;
  /** Origin-form (or `*`) target to send. */
  target: string;
  /** The client's fields: the parser's, or a flat list (an HTTP/2 client's). */
  headers: readonly string[] | HeaderFields;
  /** Authority from an absolute-form target; replaces Host. */
  authority: string | undefined;
  requestId: string;
  clientAddress: string;
  bodyFraming: number;
  /** Keep Connection: upgrade and Upgrade (an upgrade request). */
  upgrade: boolean;
  /** The peer is a trusted proxy: its X-Forwarded-Proto and X-Forwarded-Host are kept. */
  trustForwarded: boolean;
}

/** The request head for the app. */
export function upstreamRequestHead(input: RequestHeadInput): string {
  writeUpstreamRequestHead(input);
  return headText();
}

/** The same as bytes, as the HTTP/1.1 exchange writes it. */
export function upstreamRequestHeadBytes(input: RequestHeadInput): Buffer {
  writeUpstreamRequestHead(input);
  return headBytes();
}

function writeUpstreamRequestHead(input: RequestHeadInput): void {
  const fields = fieldsOf(input.headers);
  const named = connectionTokensOf(joinedFieldValues(fields, 'connection'));
  beginHead();
  put(input.method);
  put(' ');
  put(input.target);
  put(' HTTP/1.1\r\n');
  let forwardedFor: string | undefined;
  let forwardedProto = false;
  let forwardedHost = false;
  /** The client's Host field, when it is the one sent on. */
  let hostField = -1;
  if (input.authority !== undefined) putField('host', input.authority);
  for (let index = 0; index < fields.count; index += 1) {
    if (isHopByHopField(fields, index) || (named !== undefined && named.has(fields.name(index).toLowerCase()))) {
      if (input.upgrade && fields.isNamed(index, 'upgrade')) putFieldOf(fields, index);
      continue;
    }
    if (fields.isNamed(index, 'x-request-id') || fields.isNamed(index, 'expect') || fields.isNamed(index, 'content-length')) continue;
    if (fields.isNamed(index, 'host')) {
      if (input.authority !== undefined) continue;
      hostField = index;
    } else if (fields.isNamed(index, 'x-forwarded-for')) {
      const value = fields.value(index);
      forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
      continue;
    } else if (fields.isNamed(index, 'x-forwarded-proto')) {
      if (!input.trustForwarded) continue;
      forwardedProto = true;
    } else if (fields.isNamed(index, 'x-forwarded-host')) {
      if (!input.trustForwarded) continue;
      forwardedHost = true;
    }
    putFieldOf(fields, index);
  }
  put('x-forwarded-for: ');
  if (forwardedFor !== undefined) {
    put(forwardedFor);
    put(', ');
  }
  put(input.clientAddress);
  put('\r\n');
  if (!forwardedProto) put('x-forwarded-proto: http\r\n');
  if (!forwardedHost) {
    if (input.authority !== undefined) putField('x-forwarded-host', input.authority);
    else if (hostField >= 0) putNamedValueOf('x-forwarded-host', fields, hostField);
  }
  putField('x-request-id', input.requestId);
  if (input.upgrade) put('connection: upgrade\r\n');
  if (input.bodyFraming === BODY_CHUNKED) put('transfer-encoding: chunked\r\n');
  else if (input.bodyFraming === BODY_LENGTH) putNamedValueOf('content-length', fields, fieldIndex(fields, 'content-length'));
  put('\r\n');
}

export type ResponseFraming = 'length' | 'chunked' | 'none' | 'eof';

/** An interim (1xx) response head for the client, hop-by-hop headers dropped. */
export function interimHead(statusCode: number, statusText: string, headers: readonly string[]): string {
  const named = connectionTokens(headers);
  let head = `HTTP/1.1 ${statusCode} ${statusText}\r\n`;
  for (let index = 0; index < headers.length; index += 2) {
    const name = headers[index] as string;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || (named !== undefined && named.has(lower))) continue;
    head += `${name}: ${headers[index + 1] as string}\r\n`;
  }
  return `${head}\r\n`;
}

/** The 101 head for the client: the app's headers with Connection/Upgrade kept. */
export function switchingProtocolsHead(statusText: string, headers: readonly string[], requestId: string): string {
  let head = `HTTP/1.1 101 ${statusText}\r\n`;
  for (let index = 0; index < headers.length; index += 2) {
    const name = headers[index] as string;
    if (name.toLowerCase() === 'x-request-id') continue;
    head += `${name}: ${headers[index + 1] as string}\r\n`;
  }
  return `${head}x-request-id: ${requestId}\r\n\r\n`;
}

/**
 * The body length to count when a message is framed by exactly one plain Content-Length and no
 * Transfer-Encoding; -1 otherwise (the parser frames it, or refuses it).
 */
export function countableContentLength(fields: HeaderFields): number {
  let length = -1;
  for (let index = 0; index < fields.count; index += 1) {
    if (fields.isNamed(index, 'transfer-encoding')) return -1;
    if (!fields.isNamed(index, 'content-length')) continue;
    if (length >= 0) return -1;
    length = fields.decimalValue(index);
    if (length < 0) return -1;
  }
  return length;
}

/** Seconds from an app's `Keep-Alive: timeout=N` hint, else undefined. */
export function keepAliveHintMs(fields: HeaderFields): number | undefined {
  const value = fieldValue(fields, 'keep-alive');
  if (value === undefined) return undefined;
  const match = /(?:^|[\s,;])timeout\s*=\s*(\d+)/i.exec(value);
  return match === null ? undefined : Number(match[1]) * 1000;
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** Whether `text` holds a control character (HTAB allowed when `allowTab`) or DEL. */
export function hasControlCharacter(text: string, allowTab: boolean): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if ((code < 0x20 && !(allowTab && code === 0x09)) || code === 0x7f) return true;
  }
  return false;
}

/**
 * The only place that writes a sidecar-generated error body. Pages are compiled once per config
 * (templates split into literal parts), so answering — including the open-circuit fast path — is
 * string concatenation, not parsing.
 */
import type { SidecarConfig } from '../api/schema.js';
import type { Reason } from './contracts.js';
import type { ProxyErrorType } from './core/failures.js';

const TITLES: Readonly<Record<number, string>> = {
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const EXPLANATIONS: Readonly<Record<Reason, string>> = {
  'connect-failed': 'The application did not accept the connection.',
  timeout: 'The application did not answer in time.',
  reset: 'The application closed the connection before answering.',
  'invalid-response': 'The application sent a response that could not be understood.',
  'circuit-open': 'The application is failing; requests are paused for a moment to let it recover.',
  'body-truncated': 'The application stopped sending its response before the end.',
  'body-timeout': 'The application stopped sending its response for too long.',
  'client-refused': 'The request cannot be forwarded as sent.',
  'client-timeout': 'The request did not arrive in time.',
  overloaded: 'The application is busy with as much work as it can serve; this request was turned away so the others stay fast.',
};

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] as string);
}

type Variable = 'requestId' | 'status' | 'reason' | 'title' | 'explanation' | 'traceReference';
/** What users' pages may use; the built-in page also uses title and explanation. */
const USER_VARIABLES = /\{\{\s*(requestId|status|reason)\s*\}\}/g;
const BUILT_IN_VARIABLES = /\{\{\s*(requestId|status|reason|title|explanation|traceReference)\s*\}\}/g;
type TemplatePart = string | { variable: Variable };

interface CompiledPage {
  status: number;
  contentType: string;
  /** "text/html" from "text/html; charset=utf-8", for Accept matching. */
  mediaType: string;
  parts: TemplatePart[];
}

function compileTemplate(body: string, variables: RegExp): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const match of body.matchAll(variables)) {
    if (match.index > last) parts.push(body.slice(last, match.index));
    parts.push({ variable: match[1] as Variable });
    last = match.index + match[0].length;
  }
  if (last < body.length) parts.push(body.slice(last));
  return parts;
}

function render(parts: readonly TemplatePart[], values: Readonly<Record<Variable, string>>): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') out += part;
    // The trace reference is markup the sidecar builds around an already escaped id.
    else out += part.variable === 'traceReference' ? values.traceReference : escapeHtml(values[part.variable]);
  }
  return out;
}

const BUILT_IN_HTML = compileTemplate(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{status}} {{title}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1rem;color:#222}h1{font-size:1.6rem}small{color:#777}</style>
</head><body><h1>{{status}} {{title}}</h1><p>{{explanation}}</p><p>Please try again in a moment.</p>
<p><small>Request ID: {{requestId}}{{traceReference}} &middot; reason: {{reason}} &middot; badgateway</small></p></body></html>
`, BUILT_IN_VARIABLES);

export interface ErrorBody {
  contentType: string;
  body: string;
}

/** Error pages compiled for one configuration. */
export class ErrorPages {
  private readonly pages: CompiledPage[];

  constructor(config: Readonly<SidecarConfig>) {
    this.pages = config.errorPages.map((page) => ({
      status: page.status,
      contentType: page.contentType,
      mediaType: (page.contentType.split(';')[0] as string).trim().toLowerCase(),
      parts: compileTemplate(page.body, USER_VARIABLES),
    }));
  }

  /**
   * Chooses and renders the body for `status` by the request's Accept header; `traceId` (from a
   * valid W3C traceparent) is shown next to the request id in the built-in pages.
   */
  render(status: number, reason: Reason, requestId: string, accept: string | undefined, traceId?: string): ErrorBody {
    const title = TITLES[status] ?? 'Bad Gateway';
    const traceReference = traceId === undefined ? '' : ` &middot; Trace ID: ${escapeHtml(traceId)}`;
    const values = { requestId, status: String(status), reason, title, explanation: EXPLANATIONS[reason], traceReference };
    for (const page of this.pages) {
      if (page.status === status && accepts(accept, page.mediaType)) {
        return { contentType: page.contentType, body: render(page.parts, values) };
      }
    }
    if (accept !== undefined && accept.includes('text/html')) {
      return { contentType: 'text/html; charset=utf-8', body: render(BUILT_IN_HTML, values) };
    }
    if (accept !== undefined && accept.includes('json')) {
      const problem = {
        type: `https://badgateway.io/errors/${reason}`,
        title,
        status,
        detail: EXPLANATIONS[reason],
        reason,
        requestId,
        ...(traceId === undefined ? {} : { traceId }),
      };
      return { contentType: 'application/problem+json', body: JSON.stringify(problem) };
    }
    const trace = traceId === undefined ? '' : `, trace id: ${traceId}`;
    return { contentType: 'text/plain; charset=utf-8', body: `${status} ${title}: ${EXPLANATIONS[reason]} (reason: ${reason}, request id: ${requestId}${trace})\n` };
  }
}

/** Whether a media type is acceptable; a missing Accept accepts everything, q=0 refuses. */
export function accepts(accept: string | undefined, mediaType: string): boolean {
  if (accept === undefined || accept === '') return true;
  const slash = mediaType.indexOf('/');
  const wildcard = `${mediaType.slice(0, slash)}/*`;
  for (const range of accept.split(',')) {
    const [rawType, ...parameters] = range.split(';');
    const type = (rawType as string).trim().toLowerCase();
    if (type !== mediaType && type !== wildcard && type !== '*/*') continue;
    const refused = parameters.some((parameter) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(parameter));
    if (!refused) return true;
  }
  return false;
}

export interface ErrorResponse {
  status: number;
  reason: Reason;
  proxyError: ProxyErrorType;
  requestId: string;
  /** The W3C trace id of the request, when it carried a valid traceparent. */
  traceId?: string;
  /** Seconds for Retry-After, on fast failures only. */
  retryAfterSeconds?: number;
  /** Add `Connection: close` (draining, or a broken client connection). */
  close?: boolean;
}

/** The response as raw bytes for a socket: one string, written at once. `head` omits the body (HEAD). */
export function rawErrorResponse(pages: ErrorPages, accept: string | undefined, error: ErrorResponse, head = false): string {
  const { contentType, body } = pages.render(error.status, error.reason, error.requestId, accept, error.traceId);
  return `HTTP/1.1 ${error.status} ${TITLES[error.status] ?? 'Bad Gateway'}\r\n`
    + `content-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\n`
    + `x-request-id: ${error.requestId}\r\nx-badgateway-reason: ${error.reason}\r\n`
    + `proxy-status: badgateway; error=${error.proxyError}\r\n`
    + (error.retryAfterSeconds === undefined ? '' : `retry-after: ${error.retryAfterSeconds}\r\n`)
    + (error.close === true ? 'connection: close\r\n' : '')
    + `\r\n${head ? '' : body}`;
}

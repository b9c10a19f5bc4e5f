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

/** One sentence on what went wrong, for answers without a page (a gRPC status message). */
export function explanationOf(reason: Reason): string {
  return EXPLANATIONS[reason];
}

/** Where the Proxy-Status error says more than the reason: a name that does not resolve is not a refusal. */
const PROXY_ERROR_EXPLANATIONS: Readonly<Partial<Record<ProxyErrorType, string>>> = {
  dns_error: 'The application\'s host name could not be resolved.',
};

const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] as string);
}

type Variable = 'requestId' | 'status' | 'reason' | 'title' | 'explanation' | 'traceReference' | 'refresh' | 'retry';
/** What users' pages may use; the built-in page also uses title, explanation, and its markup parts. */
const USER_VARIABLES = /\{\{\s*(requestId|status|reason)\s*\}\}/g;
const BUILT_IN_VARIABLES = /\{\{\s*(requestId|status|reason|title|explanation|traceReference|refresh|retry)\s*\}\}/g;
/** Variables whose value is markup the sidecar builds from already safe parts. */
const MARKUP_VARIABLES: ReadonlySet<Variable> = new Set(['traceReference', 'refresh', 'retry']);
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
    else out += MARKUP_VARIABLES.has(part.variable) ? values[part.variable] : escapeHtml(values[part.variable]);
  }
  return out;
}

const BUILT_IN_HTML = compileTemplate(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">{{refresh}}
<title>{{status}} {{title}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:15vh auto;padding:0 1rem;color:#222;overflow-wrap:anywhere}h1{font-size:1.6rem}small{color:#777}</style>
</head><body><h1>{{status}} {{title}}</h1><p>{{explanation}}</p><p>{{retry}}</p>
<p><small>Request ID: {{requestId}}{{traceReference}} &middot; reason: {{reason}} &middot; badgateway</small></p></body></html>
`, BUILT_IN_VARIABLES);

/** What shapes a page beyond its status and reason. */
export interface PageDetails {
  proxyError?: ProxyErrorType;
  /**
   * For safe methods with a Retry-After: the built-in HTML page reloads itself after this many
   * seconds (a meta refresh, no script), when the breaker's next trial is due.
   */
  refreshSeconds?: number;
}

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
  render(status: number, reason: Reason, requestId: string, accept: string | undefined, traceId?: string, more: PageDetails = {}): ErrorBody {
    const title = TITLES[status] ?? 'Bad Gateway';
    const traceReference = traceId === undefined ? '' : ` &middot; Trace ID: ${escapeHtml(traceId)}`;
    const explanation = (more.proxyError === undefined ? undefined : PROXY_ERROR_EXPLANATIONS[more.proxyError]) ?? EXPLANATIONS[reason];
    const seconds = more.refreshSeconds;
    const refresh = seconds === undefined ? '' : `<meta http-equiv="refresh" content="${seconds}">`;
    const retry = seconds === undefined ? 'Please try again in a moment.' : `This page tries again by itself in ${seconds} second${seconds === 1 ? '' : 's'}.`;
    const values = { requestId, status: String(status), reason, title, explanation, traceReference, refresh, retry };
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
        detail: explanation,
        reason,
        requestId,
        ...(traceId === undefined ? {} : { traceId }),
      };
      return { contentType: 'application/problem+json', body: JSON.stringify(problem) };
    }
    const trace = traceId === undefined ? '' : `, trace id: ${traceId}`;
    return { contentType: 'text/plain; charset=utf-8', body: `${status} ${title}: ${explanation} (reason: ${reason}, request id: ${requestId}${trace})\n` };
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
  /** The request's method is safe (GET, HEAD): with a Retry-After, the built-in page retries by itself. */
  safe?: boolean;
}

/** The response as raw bytes for a socket: one string, written at once. `head` omits the body (HEAD). */
export function rawErrorResponse(pages: ErrorPages, accept: string | undefined, error: ErrorResponse, head = false): string {
  const refreshSeconds = error.safe === true ? error.retryAfterSeconds : undefined;
  const { contentType, body } = pages.render(error.status, error.reason, error.requestId, accept, error.traceId, {
    proxyError: error.proxyError, ...(refreshSeconds === undefined ? {} : { refreshSeconds }),
  });
  return `HTTP/1.1 ${error.status} ${TITLES[error.status] ?? 'Bad Gateway'}\r\n`
    + `content-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\n`
    + `x-request-id: ${error.requestId}\r\nx-badgateway-reason: ${error.reason}\r\n`
    + `proxy-status: badgateway; error=${error.proxyError}\r\n`
    + (error.retryAfterSeconds === undefined ? '' : `retry-after: ${error.retryAfterSeconds}\r\n`)
    + (error.close === true ? 'connection: close\r\n' : '')
    + `\r\n${head ? '' : body}`;
}

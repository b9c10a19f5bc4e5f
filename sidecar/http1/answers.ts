/**
 * Responses the sidecar writes itself, as raw bytes: the open-circuit answer (precomputed per
 * Accept value and Retry-After, the request id spliced in), and the 4xx answers to requests that
 * must not be forwarded. Bodies still come from ErrorPages.render, the one place that chooses them.
 */
import { FAILURES } from '../core/failures.js';
import { rawErrorResponse, type ErrorPages } from '../error-pages.js';

const OPEN = FAILURES['circuit-open'];

/** A string that HTML escaping and JSON encoding leave as it is, and no page contains. */
const ID_MARK = '@@badgateway-request-id-5f0c@@';
const MAX_CACHED = 64;
/** Ids that HTML escaping and JSON encoding leave unchanged can be spliced; others are rendered. */
const SPLICEABLE_ID = /^[A-Za-z0-9._~:+/=-]+$/;

interface Precomputed {
  parts: string[];
  /** Bytes of the response without the ids, and how many times the id appears in the body. */
  fixedBodyBytes: number;
  idsInBody: number;
}

function precompute(pages: ErrorPages, accept: string | undefined, status: number, retryAfterSeconds: number, close: boolean, safe: boolean): Precomputed {
  // The body is rendered with a mark instead of the id: its length changes with the id's.
  const text = rawErrorResponse(pages, accept, {
    status, reason: OPEN.reason, proxyError: OPEN.proxyError, requestId: ID_MARK, retryAfterSeconds, close, safe,
  });
  const bodyStart = text.indexOf('\r\n\r\n') + 4;
  const body = text.slice(bodyStart);
  const idsInBody = body.split(ID_MARK).length - 1;
  const fixedBodyBytes = Buffer.byteLength(body) - idsInBody * Buffer.byteLength(ID_MARK);
  const withLength = text.replace(/content-length: \d+\r\n/, 'content-length: \u0002\r\n');
  const parts = withLength.split(ID_MARK);
  return { parts, fixedBodyBytes, idsInBody };
}

export class OpenCircuitAnswers {
  private readonly cache = new Map<string, Precomputed>();

  constructor(private readonly pages: ErrorPages, private readonly status: number) {}

  /** The whole open-circuit response for one request. */
  answer(requestId: string, traceId: string | undefined, accept: string | undefined, retryAfterSeconds: number, close: boolean, head: boolean, safe: boolean): string {
    // A traced request's page also shows its trace id: rendered, not spliced.
    if (traceId !== undefined || !SPLICEABLE_ID.test(requestId)) {
      return rawErrorResponse(this.pages, accept, {
        status: this.status, reason: OPEN.reason, proxyError: OPEN.proxyError, requestId, traceId, retryAfterSeconds, close, safe,
      }, head);
    }
    const key = `${retryAfterSeconds}|${close ? 1 : 0}|${safe ? 1 : 0}|${accept ?? ''}`;
    let precomputed = this.cache.get(key);
    if (precomputed === undefined) {
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
      precomputed = precompute(this.pages, accept, this.status, retryAfterSeconds, close, safe);
      this.cache.set(key, precomputed);
    }
    const length = String(precomputed.fixedBodyBytes + precomputed.idsInBody * Buffer.byteLength(requestId));
    const parts = precomputed.parts;
    let out = (parts[0] as string).replace('\u0002', length);
    for (let index = 1; index < parts.length; index += 1) out += requestId + (parts[index] as string);
    return head ? out.slice(0, out.indexOf('\r\n\r\n') + 4) : out;
  }
}

const TEXTS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  505: 'HTTP Version Not Supported',
};

/**
 * A 4xx/501 for a request the sidecar refuses to forward (docs/errors.md, "Responses to refused
 * client requests"); the connection is closed after it, since what follows on it cannot be trusted
 * to be framed as the client meant.
 */
export function clientErrorResponse(status: number, requestId: string): string {
  const text = TEXTS[status] ?? 'Bad Request';
  const failure = FAILURES[status === 408 ? 'client-timeout' : 'client-refused'];
  const body = `${status} ${text}\n`;
  return `HTTP/1.1 ${status} ${text}\r\ncontent-type: text/plain; charset=utf-8\r\n`
    + `content-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\nx-request-id: ${requestId}\r\n`
    + `x-badgateway-reason: ${failure.reason}\r\n`
    + `proxy-status: badgateway; error=${failure.proxyError}\r\nconnection: close\r\n\r\n${body}`;
}

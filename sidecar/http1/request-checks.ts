/**
 * What a reverse proxy must refuse or rewrite in a request head before forwarding it (RFC 9112
 * §3.2, §3.3, §6.1; RFC 9110 §10.1.1): the sidecar answers these itself, never the app, and they
 * never count against the app.
 */
import { headerCount, joinedValues } from './heads.js';

export interface Refusal {
  status: number;
  detail: string;
}

export interface CheckedRequest {
  /** Origin-form target (or `*` for OPTIONS). */
  target: string;
  /** From an absolute-form target: the Host to send. */
  authority: string | undefined;
  expectContinue: boolean;
  chunked: boolean;
  hasBody: boolean;
}

const ABSOLUTE_FORM = /^https?:\/\/([^/?#]+)([^#]*)/i;

/** Either the request as it will be forwarded, or the status and reason the client gets instead. */
export function checkRequest(method: string, target: string, versionMinor: number, headers: readonly string[]): CheckedRequest | Refusal {
  if (method === 'CONNECT') return { status: 405, detail: 'CONNECT is not forwarded' };
  const hosts = headerCount(headers, 'host');
  if (hosts > 1) return { status: 400, detail: 'more than one Host header' };
  if (hosts === 0 && versionMinor >= 1) return { status: 400, detail: 'an HTTP/1.1 request needs a Host header' };
  let authority: string | undefined;
  let originTarget = target;
  if (target === '*') {
    if (method !== 'OPTIONS') return { status: 400, detail: 'the asterisk target is only valid for OPTIONS' };
  } else if (target.charCodeAt(0) !== 0x2f /* '/' */) {
    const absolute = ABSOLUTE_FORM.exec(target);
    if (absolute === null) return { status: 400, detail: 'request target is not origin-form or absolute-form' };
    authority = (absolute[1] as string).replace(/^[^@]*@/, '');
    const rest = absolute[2] as string;
    originTarget = rest === '' ? '/' : rest.charCodeAt(0) === 0x3f /* '?' */ ? `/${rest}` : rest;
  }
  const codings = joinedValues(headers, 'transfer-encoding');
  const chunked = codings !== undefined;
  if (chunked && codings.trim().toLowerCase() !== 'chunked') {
    return { status: 501, detail: `transfer coding not supported: ${codings}` };
  }
  const expect = joinedValues(headers, 'expect');
  let expectContinue = false;
  if (expect !== undefined) {
    if (expect.trim().toLowerCase() !== '100-continue') return { status: 417, detail: 'only Expect: 100-continue is supported' };
    expectContinue = true;
  }
  const length = joinedValues(headers, 'content-length');
  const hasBody = chunked || (length !== undefined && Number(length) > 0);
  return { target: originTarget, authority, expectContinue, chunked, hasBody };
}

export function isRefusal(result: CheckedRequest | Refusal): result is Refusal {
  return 'status' in result;
}

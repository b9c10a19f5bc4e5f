/**
 * What a reverse proxy must refuse or rewrite in a request head before forwarding it (RFC 9112
 * §3.2, §3.3, §6.1; RFC 9110 §10.1.1): the sidecar answers these itself, never the app, and they
 * never count against the app.
 */
import { fieldCount, joinedFieldValues, type HeaderFields } from './head-fields.js';
import { hasControlCharacter } from './heads.js';

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
/** Characters a Host value must not contain besides controls: whitespace, '/', '@'. */
const BAD_HOST_CHARACTER = /[\s/@]/;

function badHost(value: string): boolean {
  return BAD_HOST_CHARACTER.test(value) || hasControlCharacter(value, false);
}

function checkCodings(codings: string, http10: boolean): Refusal | undefined {
  if (http10) return { status: 400, detail: 'Transfer-Encoding in an HTTP/1.0 request' };
  const tokens = codings.split(',').map((token) => token.trim().toLowerCase());
  if (tokens[tokens.length - 1] !== 'chunked') return { status: 400, detail: 'the last transfer coding is not chunked' };
  if (tokens.indexOf('chunked') !== tokens.length - 1) return { status: 400, detail: 'chunked applied twice' };
  if (tokens.length > 1) return { status: 501, detail: `transfer coding not supported: ${codings}` };
  return undefined;
}

export function checkRequest(method: string, target: string, versionMajor: number, versionMinor: number, fields: HeaderFields): CheckedRequest | Refusal {
  if (versionMajor !== 1 || versionMinor > 1) return { status: 505, detail: 'only HTTP/1.0 and HTTP/1.1 are spoken' };
  const http10 = versionMinor === 0;
  if (method === 'CONNECT') return { status: 501, detail: 'CONNECT is not forwarded' };
  const hosts = fieldCount(fields, 'host');
  if (hosts > 1) return { status: 400, detail: 'more than one Host header' };
  if (hosts === 0 && !http10) return { status: 400, detail: 'an HTTP/1.1 request needs a Host header' };
  if (hosts === 1 && badHost(joinedFieldValues(fields, 'host') as string)) return { status: 400, detail: 'Host is not a valid authority' };
  let authority: string | undefined;
  let originTarget = target;
  if (target === '*') {
    if (method !== 'OPTIONS') return { status: 400, detail: 'the asterisk target is only valid for OPTIONS' };
  } else if (target.charCodeAt(0) !== 0x2f /* '/' */) {
    const absolute = ABSOLUTE_FORM.exec(target);
    if (absolute === null) return { status: 400, detail: 'request target is not origin-form or absolute-form' };
    authority = absolute[1] ?? '';
    if (badHost(authority)) return { status: 400, detail: 'the target\'s authority is not valid' };
    const rest = absolute[2] as string;
    originTarget = rest === '' ? '/' : rest.charCodeAt(0) === 0x3f /* '?' */ ? `/${rest}` : rest;
  }
  const codings = joinedFieldValues(fields, 'transfer-encoding');
  const chunked = codings !== undefined;
  if (chunked) {
    const refusal = checkCodings(codings, http10);
    if (refusal !== undefined) return refusal;
  }
  // HTTP/1.0 requests' Expect is ignored (RFC 9110 §10.1.1); it is never forwarded.
  const expect = http10 ? undefined : joinedFieldValues(fields, 'expect');
  let expectContinue = false;
  if (expect !== undefined) {
    if (expect.trim().toLowerCase() !== '100-continue') return { status: 417, detail: 'only Expect: 100-continue is supported' };
    expectContinue = true;
  }
  const length = joinedFieldValues(fields, 'content-length');
  const hasBody = chunked || (length !== undefined && Number(length) > 0);
  return { target: originTarget, authority, expectContinue, chunked, hasBody };
}

export function isRefusal(result: CheckedRequest | Refusal): result is Refusal {
  return 'status' in result;
}

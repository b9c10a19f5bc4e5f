/** A checked request head turned into what an exchange forwards to the app. */
import type { ExchangeRequest } from './exchange.js';
import { fieldValue } from './head-fields.js';
import { BODY_CHUNKED, BODY_LENGTH, BODY_NONE, isIdempotent, upstreamRequestHeadBytes, type RequestHeadInput } from './heads.js';
import type { HttpParser } from './llhttp.js';
import type { CheckedRequest } from './request-checks.js';

const NO_HEADERS: readonly string[] = [];
/** What each request's head is written from: filled for it and read at once, not an object a request. */
const headInput: RequestHeadInput = {
  method: '', target: '', headers: NO_HEADERS, authority: undefined, requestId: '', clientAddress: '', bodyFraming: BODY_NONE, upgrade: false, trustForwarded: false,
};

/**
 * `defaultAuthority` is the app's host[:port], the Host given to an HTTP/1.0 request that came
 * without one; `trustForwarded` says the client is a trusted proxy.
 */
export function forwardedRequest(parser: HttpParser, checked: CheckedRequest, http10: boolean, upgrade: boolean, requestId: string, traceId: string | undefined, clientAddress: string, defaultAuthority: string, trustForwarded: boolean): ExchangeRequest {
  return new ForwardedRequest(parser, checked, http10, upgrade, requestId, traceId, clientAddress, defaultAuthority, trustForwarded);
}

/**
 * The request as forwarded. Its flat header list (`raw`, which only an h2c app's link reads) is
 * made from the parser's fields when asked: parsing waits while the request is in flight.
 */
class ForwardedRequest implements ExchangeRequest {
  readonly method: string;
  readonly target: string;
  readonly accept: string | undefined;
  readonly head: Buffer;
  readonly hasBody: boolean;
  readonly chunked: boolean;
  readonly replayable: boolean;
  readonly expectContinue: boolean;
  readonly path: string;
  readonly authority: string;
  readonly contentLength: string | undefined;

  constructor(
    private readonly parser: HttpParser,
    checked: CheckedRequest,
    http10: boolean,
    readonly upgrade: boolean,
    readonly requestId: string,
    readonly traceId: string | undefined,
    readonly clientAddress: string,
    defaultAuthority: string,
    readonly trustForwarded: boolean,
  ) {
    const fields = parser.fields;
    const host = fieldValue(fields, 'host');
    const contentLength = fieldValue(fields, 'content-length');
    const input = headInput;
    input.method = parser.method;
    input.target = checked.target;
    input.headers = fields;
    input.authority = checked.authority ?? (http10 && host === undefined ? defaultAuthority : undefined);
    input.requestId = requestId;
    input.clientAddress = clientAddress;
    input.bodyFraming = checked.chunked ? BODY_CHUNKED : contentLength === undefined ? BODY_NONE : BODY_LENGTH;
    input.upgrade = upgrade;
    input.trustForwarded = trustForwarded;
    this.head = upstreamRequestHeadBytes(input);
    input.headers = NO_HEADERS; // not keeping a parser reachable
    this.method = parser.method;
    this.target = parser.target;
    this.accept = fieldValue(fields, 'accept');
    this.hasBody = checked.hasBody;
    this.chunked = checked.chunked;
    this.replayable = !checked.hasBody && !upgrade && isIdempotent(parser.method);
    this.expectContinue = checked.expectContinue && !http10;
    this.path = checked.target;
    this.authority = checked.authority ?? host ?? defaultAuthority;
    this.contentLength = contentLength;
  }

  get raw(): readonly string[] {
    return this.parser.headers;
  }
}

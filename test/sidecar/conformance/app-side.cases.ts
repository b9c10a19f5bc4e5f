/**
 * The app-side table of docs/errors.md as data: what a scripted app sends back, and what the
 * client, the breaker and the metrics must see.
 */
import type { Reason } from '../../../sidecar/contracts.js';
import type { UpstreamScript } from '../../support/raw-upstream.js';

/** What the client must get. */
export type Outcome =
  /** A response the sidecar generated, complete, with its reason and Proxy-Status. */
  | { kind: 'sidecar'; status: number; reason: Reason; proxyError: string }
  /** The app's response, complete, after these interim statuses. */
  | { kind: 'app'; status: number; interim?: number[]; body?: string }
  /** The app's head, then an aborted connection: never a complete-looking response. */
  | { kind: 'aborted'; status: number; reason: Reason };

export interface AppCase {
  name: string;
  /** The app's bytes for every request (the connection then stays open), or a full script. */
  answer: string | UpstreamScript;
  /** The client's request; a GET with Host by default. */
  request?: string;
  outcome: Outcome;
  /** How many times the app receives the request (2 = one safe retry). */
  appRequests?: number;
  breaker: 'failure' | 'success';
}

const UPGRADE_REQUEST = 'GET /ws HTTP/1.1\r\nhost: app.example\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n';

const invalid = { kind: 'sidecar', status: 502, reason: 'invalid-response', proxyError: 'http_protocol_error' } as const;

/** Waits for the request, then writes `bytes` and runs `after`. */
function onRequest(bytes: string, after: 'close' | 'reset' | 'stall'): UpstreamScript {
  return async (connection) => {
    await connection.nextRequest();
    await connection.write(bytes);
    if (after === 'close') connection.end();
    if (after === 'reset') setTimeout(() => connection.reset(), 20);
  };
}

export const APP_CASES: readonly AppCase[] = [
  // A response head the sidecar must not pass on: 502 invalid-response, counted, never retried.
  { name: 'no space between status code and reason', answer: 'HTTP/1.1 200OK\r\ncontent-length: 0\r\n\r\n', outcome: invalid, breaker: 'failure' },
  { name: 'an HTTP/2 version in the status line', answer: 'HTTP/2 200\r\ncontent-length: 0\r\n\r\n', outcome: invalid, breaker: 'failure' },
  { name: 'an ICY status line', answer: 'ICY 200 OK\r\ncontent-length: 0\r\n\r\n', outcome: invalid, breaker: 'failure' },
  { name: 'an HTTP/0.9 reply (no status line)', answer: onRequest('hello world', 'close'), outcome: invalid, breaker: 'failure' },
  { name: 'a status code below 100', answer: 'HTTP/1.1 099 Low\r\ncontent-length: 0\r\n\r\n', outcome: invalid, breaker: 'failure' },
  { name: 'a status code above 599', answer: 'HTTP/1.1 600 High\r\ncontent-length: 0\r\n\r\n', outcome: invalid, breaker: 'failure' },
  { name: 'a two-digit status code', answer: 'HTTP/1.1 20 Short\r\ncontent-length: 0\r\n\r\n', outcome: invalid, breaker: 'failure' },
  { name: 'a control character in the reason phrase', answer: 'HTTP/1.1 200 O\x01K\r\ncontent-length: 2\r\n\r\nok', outcome: invalid, breaker: 'failure' },
  { name: 'DEL in the reason phrase', answer: 'HTTP/1.1 200 O\x7fK\r\ncontent-length: 2\r\n\r\nok', outcome: invalid, breaker: 'failure' },
  { name: 'obs-fold in a field', answer: 'HTTP/1.1 200 OK\r\nx-a: 1\r\n folded\r\ncontent-length: 2\r\n\r\nok', outcome: invalid, breaker: 'failure' },
  { name: 'bare LF line endings', answer: 'HTTP/1.1 200 OK\ncontent-length: 2\n\nok', outcome: invalid, breaker: 'failure' },
  { name: 'whitespace before a colon', answer: 'HTTP/1.1 200 OK\r\ncontent-length : 2\r\n\r\nok', outcome: invalid, breaker: 'failure' },
  { name: 'a NUL in a field value', answer: 'HTTP/1.1 200 OK\r\nx-a: a\x00b\r\ncontent-length: 2\r\n\r\nok', outcome: invalid, breaker: 'failure' },
  { name: 'a response head over 16 KiB', answer: `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(17 * 1024)}\r\ncontent-length: 2\r\n\r\nok`, outcome: invalid, breaker: 'failure' },
  { name: 'Content-Length with Transfer-Encoding', answer: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', outcome: invalid, breaker: 'failure' },
  { name: 'two equal Content-Length fields', answer: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\nok', outcome: invalid, breaker: 'failure' },
  { name: 'two different Content-Length fields', answer: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok!', outcome: invalid, breaker: 'failure' },
  { name: 'a Content-Length that is not a number', answer: 'HTTP/1.1 200 OK\r\ncontent-length: two\r\n\r\nok', outcome: invalid, breaker: 'failure' },
  { name: 'Transfer-Encoding gzip, chunked', answer: 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', outcome: invalid, breaker: 'failure' },
  { name: 'Transfer-Encoding gzip alone', answer: onRequest('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nok', 'close'), outcome: invalid, breaker: 'failure' },
  { name: 'an HTTP/2.0 version in a status line llhttp frames', answer: 'HTTP/2.0 200 OK\r\ncontent-length: 2\r\n\r\nok', outcome: invalid, breaker: 'failure' },
  { name: 'an HTTP/0.9 version in a status line', answer: 'HTTP/0.9 200 OK\r\ncontent-length: 2\r\n\r\nok', outcome: invalid, breaker: 'failure' },
  { name: 'an HTTP/2.0 interim response', answer: 'HTTP/2.0 103 Early Hints\r\nconnection: keep-alive\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok', outcome: invalid, breaker: 'failure' },
  { name: 'an unsolicited 101 Switching Protocols', answer: 'HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n', outcome: invalid, breaker: 'failure' },
  { name: 'a 101 without Upgrade to an upgrade request', request: UPGRADE_REQUEST, answer: 'HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\n\r\n', outcome: invalid, breaker: 'failure' },

  // An unsolicited 100 Continue is dropped (RFC 9110 §15.2: clients parse 1xx they did not expect).
  { name: 'an unsolicited 100 Continue, then 200', answer: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok', outcome: { kind: 'app', status: 200, body: 'ok' }, breaker: 'success' },
  { name: 'an unsolicited 100 Continue, then 103, then 200', answer: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok', outcome: { kind: 'app', status: 200, interim: [103], body: 'ok' }, breaker: 'success' },

  // Interim responses: forwarded to HTTP/1.1 clients, then the final response.
  { name: '103 Early Hints then 200', answer: 'HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok', outcome: { kind: 'app', status: 200, interim: [103], body: 'ok' }, breaker: 'success' },
  { name: '102 Processing then 200', answer: 'HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok', outcome: { kind: 'app', status: 200, interim: [102], body: 'ok' }, breaker: 'success' },
  { name: '102, 103, 103 then 200', answer: 'HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </b.css>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok', outcome: { kind: 'app', status: 200, interim: [102, 103, 103], body: 'ok' }, breaker: 'success' },
  { name: '103 then the app\'s own 503', answer: 'HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\ndown', outcome: { kind: 'app', status: 503, interim: [103], body: 'down' }, breaker: 'failure' },

  // The app's own statuses pass through untouched.
  { name: 'the app\'s own 503 (a failure status)', answer: 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\ndown', outcome: { kind: 'app', status: 503, body: 'down' }, breaker: 'failure' },
  { name: 'the app\'s own 500 (not a failure status)', answer: 'HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\n\r\noops', outcome: { kind: 'app', status: 500, body: 'oops' }, breaker: 'success' },

  // Failures before any response byte: retried once (idempotent, no body), then 502 reset.
  { name: 'a close before any response byte', answer: onRequest('', 'close'), outcome: { kind: 'sidecar', status: 502, reason: 'reset', proxyError: 'connection_terminated' }, appRequests: 2, breaker: 'failure' },
  { name: 'a reset before any response byte', answer: onRequest('', 'reset'), outcome: { kind: 'sidecar', status: 502, reason: 'reset', proxyError: 'connection_terminated' }, appRequests: 2, breaker: 'failure' },
  { name: 'a close after part of the head (never retried)', answer: onRequest('HTTP/1.1 200 OK\r\ncontent-le', 'close'), outcome: { kind: 'sidecar', status: 502, reason: 'reset', proxyError: 'connection_terminated' }, breaker: 'failure' },
  { name: 'no response head within timeouts.response', answer: onRequest('', 'stall'), outcome: { kind: 'sidecar', status: 504, reason: 'timeout', proxyError: 'http_response_timeout' }, breaker: 'failure' },

  // Failures after the head: the client connection is aborted, counted under its own reason.
  { name: 'a body shorter than its Content-Length, then close', answer: onRequest('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc', 'close'), outcome: { kind: 'aborted', status: 200, reason: 'body-truncated' }, breaker: 'failure' },
  { name: 'a chunked body without its last chunk, then close', answer: onRequest('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n', 'close'), outcome: { kind: 'aborted', status: 200, reason: 'body-truncated' }, breaker: 'failure' },
  { name: 'a reset mid-body', answer: onRequest('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc', 'reset'), outcome: { kind: 'aborted', status: 200, reason: 'body-truncated' }, breaker: 'failure' },
  { name: 'a malformed chunk mid-body', answer: onRequest('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n', 'stall'), outcome: { kind: 'aborted', status: 200, reason: 'invalid-response' }, breaker: 'failure' },
  { name: 'a body that stalls longer than timeouts.responseBodyIdle', answer: onRequest('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc', 'stall'), outcome: { kind: 'aborted', status: 200, reason: 'body-timeout' }, breaker: 'failure' },

  // Connection cannot nominate the framing away: the body keeps its Content-Length.
  { name: 'Connection naming Content-Length', answer: 'HTTP/1.1 200 OK\r\nconnection: content-length\r\ncontent-length: 2\r\n\r\nok', outcome: { kind: 'app', status: 200, body: 'ok' }, breaker: 'success' },

  // Bodies framed by the close, and bodiless responses.
  { name: 'a close-delimited HTTP/1.1 body', answer: onRequest('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end', 'close'), outcome: { kind: 'app', status: 200, body: 'until the end' }, breaker: 'success' },
  { name: 'an HTTP/1.0 response with a close-delimited body', answer: onRequest('HTTP/1.0 200 OK\r\n\r\nold style', 'close'), outcome: { kind: 'app', status: 200, body: 'old style' }, breaker: 'success' },
  { name: 'a 204 followed by stray bytes', answer: 'HTTP/1.1 204 No Content\r\n\r\nstray', outcome: { kind: 'app', status: 204, body: '' }, breaker: 'success' },
  { name: 'a 304', answer: 'HTTP/1.1 304 Not Modified\r\netag: "x"\r\n\r\n', outcome: { kind: 'app', status: 304, body: '' }, breaker: 'success' },
  { name: 'a 304 with the Content-Length of the representation (no body follows)', answer: 'HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n', outcome: { kind: 'app', status: 304, body: '' }, breaker: 'success' },
  { name: 'a 204 with a Content-Length (no body follows)', answer: 'HTTP/1.1 204 No Content\r\ncontent-length: 10\r\n\r\n', outcome: { kind: 'app', status: 204, body: '' }, breaker: 'success' },
  { name: 'a HEAD response with a Content-Length and no body', request: 'HEAD / HTTP/1.1\r\nhost: app.example\r\n\r\n', answer: 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n', outcome: { kind: 'app', status: 200, body: '' }, breaker: 'success' },
];

/**
 * The client-side table of docs/errors.md as data: raw requests the sidecar must refuse itself, and
 * raw requests it must forward, normalised, with what the app must receive.
 */
import { expect } from '@jest/globals';
import { field, fieldValues, type RawMessage } from '../../support/raw-http.js';
import { CONNECTION_NOMINATIONS } from './connection-nominations.cases.js';
import { onlyRequest } from './conformance.js';
import { FORWARDED_TRUST } from './forwarded-trust.cases.js';

export interface RefusedCase {
  name: string;
  /** Exactly the bytes the client writes. */
  request: string;
  status: 400 | 408 | 414 | 417 | 431 | 501 | 505;
}

const BIG = 'a'.repeat(17 * 1024);

export const REFUSED: readonly RefusedCase[] = [
  { name: 'a request head over 16 KiB', request: `GET / HTTP/1.1\r\nhost: x\r\nx-big: ${BIG}\r\n\r\n`, status: 431 },
  { name: 'a request target over 16 KiB', request: `GET /${'a'.repeat(20 * 1024)} HTTP/1.1\r\nhost: x\r\n\r\n`, status: 414 },
  { name: 'garbage instead of a request line', request: 'HELLO\r\n\r\n', status: 400 },
  { name: 'an unknown method token (FROBNICATE)', request: 'FROBNICATE / HTTP/1.1\r\nhost: x\r\n\r\n', status: 501 },
  { name: 'an unknown method token (FOO)', request: 'FOO /a HTTP/1.1\r\nhost: x\r\n\r\n', status: 501 },
  { name: 'an unknown method that extends a known one (PATCHY)', request: 'PATCHY / HTTP/1.1\r\nhost: x\r\n\r\n', status: 501 },
  { name: 'a lower-case method (get: methods are case-sensitive tokens)', request: 'get / HTTP/1.1\r\nhost: x\r\n\r\n', status: 501 },
  { name: 'an RTSP method in an HTTP request (DESCRIBE)', request: 'DESCRIBE / HTTP/1.1\r\nhost: x\r\n\r\n', status: 501 },
  { name: 'a method with a character no token has', request: 'GE/T / HTTP/1.1\r\nhost: x\r\n\r\n', status: 400 },
  { name: 'no method at all', request: ' / HTTP/1.1\r\nhost: x\r\n\r\n', status: 400 },
  { name: 'two spaces in the request line', request: 'GET  / HTTP/1.1\r\nhost: x\r\n\r\n', status: 400 },
  { name: 'a lower-case version', request: 'GET / http/1.1\r\nhost: x\r\n\r\n', status: 400 },
  { name: 'a space in the target', request: 'GET /a b HTTP/1.1\r\nhost: x\r\n\r\n', status: 400 },
  { name: 'HTTP/2.0 in an HTTP/1 request line', request: 'GET / HTTP/2.0\r\nhost: x\r\n\r\n', status: 505 },
  { name: 'HTTP/0.9 with a version', request: 'GET / HTTP/0.9\r\nhost: x\r\n\r\n', status: 505 },
  { name: 'a higher minor version (HTTP/1.2)', request: 'GET / HTTP/1.2\r\nhost: x\r\n\r\n', status: 505 },
  { name: 'a version llhttp does not know (HTTP/3.0)', request: 'GET / HTTP/3.0\r\nhost: x\r\n\r\n', status: 505 },
  { name: 'a malformed version (HTTP/3)', request: 'GET / HTTP/3\r\nhost: x\r\n\r\n', status: 400 },
  { name: 'a malformed minor version (HTTP/1.x)', request: 'GET / HTTP/1.x\r\nhost: x\r\n\r\n', status: 400 },
  { name: 'obs-fold', request: 'GET / HTTP/1.1\r\nhost: x\r\nx-a: 1\r\n  folded\r\n\r\n', status: 400 },
  { name: 'bare LF line endings', request: 'GET / HTTP/1.1\nhost: x\n\n', status: 400 },
  { name: 'a bare CR inside the head', request: 'GET / HTTP/1.1\r\nhost: x\rx-a: 1\r\n\r\n', status: 400 },
  { name: 'whitespace before the colon', request: 'GET / HTTP/1.1\r\nhost: x\r\nx-a : 1\r\n\r\n', status: 400 },
  { name: 'a NUL in a field value', request: 'GET / HTTP/1.1\r\nhost: x\r\nx-a: a\x00b\r\n\r\n', status: 400 },
  { name: 'a control character in a field name', request: 'GET / HTTP/1.1\r\nhost: x\r\nx\x01a: 1\r\n\r\n', status: 400 },
  { name: 'Content-Length with Transfer-Encoding (smuggling)', request: 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n', status: 400 },
  { name: 'two equal Content-Length fields', request: 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\nab', status: 400 },
  { name: 'two different Content-Length fields', request: 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nabc', status: 400 },
  { name: 'a Content-Length that is not a number', request: 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1x\r\n\r\na', status: 400 },
  { name: 'a negative Content-Length', request: 'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n', status: 400 },
  { name: 'Transfer-Encoding gzip (chunked not last)', request: 'POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip\r\n\r\nab', status: 400 },
  { name: 'Transfer-Encoding chunked, gzip (chunked not last)', request: 'POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked, gzip\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'Transfer-Encoding gzip, chunked (a coding the sidecar does not decode)', request: 'POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: gzip, chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n', status: 501 },
  { name: 'Transfer-Encoding with an unknown coding before chunked', request: 'POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: x-custom, chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n', status: 501 },
  { name: 'Transfer-Encoding in an HTTP/1.0 request', request: 'POST / HTTP/1.0\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n', status: 400 },
  { name: 'a chunk size that is not hex', request: 'POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n', status: 400 },
  { name: 'a chunk without its CRLF', request: 'POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n2\r\nabXY0\r\n\r\n', status: 400 },
  { name: 'a chunk size that overflows', request: 'POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nfffffffffffffffffff\r\nab\r\n', status: 400 },
  { name: 'an HTTP/1.1 request without Host', request: 'GET / HTTP/1.1\r\nx-a: 1\r\n\r\n', status: 400 },
  { name: 'two Host fields', request: 'GET / HTTP/1.1\r\nhost: a.example\r\nhost: b.example\r\n\r\n', status: 400 },
  { name: 'a Host with a space', request: 'GET / HTTP/1.1\r\nhost: a b\r\n\r\n', status: 400 },
  { name: 'a Host with a slash', request: 'GET / HTTP/1.1\r\nhost: a.example/evil\r\n\r\n', status: 400 },
  { name: 'a Host with userinfo', request: 'GET / HTTP/1.1\r\nhost: user@a.example\r\n\r\n', status: 400 },
  { name: 'absolute-form with an ftp scheme', request: 'GET ftp://other.example/a HTTP/1.1\r\nhost: x\r\n\r\n', status: 400 },
  { name: 'asterisk-form with GET', request: 'GET * HTTP/1.1\r\nhost: x\r\n\r\n', status: 400 },
  { name: 'an origin-form target without a leading slash', request: 'GET a HTTP/1.1\r\nhost: x\r\n\r\n', status: 400 },
  { name: 'CONNECT (authority-form)', request: 'CONNECT other.example:443 HTTP/1.1\r\nhost: other.example:443\r\n\r\n', status: 501 },
  { name: 'an Expect other than 100-continue', request: 'GET / HTTP/1.1\r\nhost: x\r\nexpect: 200-ok\r\n\r\n', status: 417 },
];

export interface ForwardedCase {
  name: string;
  request: string;
  /** The sidecar's configuration, CONFORMANCE_POLICY by default. */
  policy?: object;
  /** How many final responses the client must get. */
  responses?: number;
  /** Checks on what the app received (complete requests, in order). */
  app(requests: RawMessage[]): void;
}

export const FORWARDED: readonly ForwardedCase[] = [
  {
    name: 'absolute-form is rewritten to origin-form, its authority becoming Host',
    request: 'GET http://other.example/a?b=1 HTTP/1.1\r\nhost: ignored.example\r\n\r\n',
    app: (requests) => {
      const request = onlyRequest(requests);
      expect([request.target, fieldValues(request, 'host')]).toEqual(['/a?b=1', ['other.example']]);
    },
  },
  {
    name: 'absolute-form with a port and an empty path becomes "/" with that Host',
    request: 'GET http://other.example:8080 HTTP/1.1\r\nhost: other.example:8080\r\n\r\n',
    app: (requests) => {
      const request = onlyRequest(requests);
      expect([request.target, fieldValues(request, 'host')]).toEqual(['/', ['other.example:8080']]);
    },
  },
  {
    name: 'OPTIONS * is forwarded in asterisk-form',
    request: 'OPTIONS * HTTP/1.1\r\nhost: app.example\r\n\r\n',
    app: (requests) => {
      const request = onlyRequest(requests);
      expect([request.method, request.target]).toEqual(['OPTIONS', '*']);
    },
  },
  {
    name: 'an HTTP/1.0 request without Host gets the upstream authority as Host',
    request: 'GET /old HTTP/1.0\r\n\r\n',
    app: (requests) => {
      const request = onlyRequest(requests);
      expect(request.target).toBe('/old');
      expect(fieldValues(request, 'host')).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+$/)]);
    },
  },
  {
    name: 'Expect: 100-continue in HTTP/1.0 is ignored and not forwarded',
    request: 'POST / HTTP/1.0\r\nhost: app.example\r\nexpect: 100-continue\r\ncontent-length: 2\r\n\r\nab',
    app: (requests) => {
      const request = onlyRequest(requests);
      expect([field(request, 'expect'), request.body.toString()]).toEqual([undefined, 'ab']);
    },
  },
  {
    name: 'hop-by-hop fields, and those Connection names, are removed',
    request: 'GET / HTTP/1.1\r\nhost: app.example\r\nconnection: keep-alive, x-secret\r\nx-secret: 1\r\nkeep-alive: timeout=5\r\n'
      + 'proxy-connection: keep-alive\r\nproxy-authorization: Basic eDp5\r\nte: trailers\r\ntrailer: x-t\r\nx-kept: yes\r\n\r\n',
    app: (requests) => {
      const names = onlyRequest(requests).fields.map(([name]) => name.toLowerCase());
      for (const name of ['x-secret', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer']) expect(names).not.toContain(name);
      expect(names).toContain('x-kept');
    },
  },
  {
    name: 'X-Forwarded-For is appended with the client address',
    request: 'GET / HTTP/1.1\r\nhost: app.example\r\nx-forwarded-for: 203.0.113.7\r\nx-forwarded-for: 198.51.100.1\r\n\r\n',
    app: (requests) => {
      expect(fieldValues(onlyRequest(requests), 'x-forwarded-for')).toEqual(['203.0.113.7, 198.51.100.1, 127.0.0.1']);
    },
  },
  {
    name: 'a valid X-Request-Id is kept',
    request: 'GET / HTTP/1.1\r\nhost: app.example\r\nx-request-id: abc-123\r\n\r\n',
    app: (requests) => { expect(fieldValues(onlyRequest(requests), 'x-request-id')).toEqual(['abc-123']); },
  },
  {
    name: 'an invalid X-Request-Id is replaced',
    request: `GET / HTTP/1.1\r\nhost: app.example\r\nx-request-id: ${'z'.repeat(300)}\r\n\r\n`,
    app: (requests) => {
      expect(fieldValues(onlyRequest(requests), 'x-request-id')).toEqual([expect.stringMatching(/^[0-9a-f-]{36}$/)]);
    },
  },
  {
    name: 'a Content-Length body arrives exactly',
    request: 'POST /upload HTTP/1.1\r\nhost: app.example\r\ncontent-length: 5\r\n\r\nhello',
    app: (requests) => { expect(onlyRequest(requests).body.toString()).toBe('hello'); },
  },
  {
    name: 'a chunked body arrives exactly',
    request: 'POST /upload HTTP/1.1\r\nhost: app.example\r\ntransfer-encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n',
    app: (requests) => { expect(onlyRequest(requests).body.toString()).toBe('hello'); },
  },
  {
    name: 'pipelined requests are each forwarded once, in order',
    request: 'GET /one HTTP/1.1\r\nhost: app.example\r\n\r\nGET /two HTTP/1.1\r\nhost: app.example\r\n\r\nHEAD /three HTTP/1.1\r\nhost: app.example\r\n\r\n',
    responses: 3,
    app: (requests) => { expect(requests.map((request) => `${request.method} ${request.target}`)).toEqual(['GET /one', 'GET /two', 'HEAD /three']); },
  },
  ...CONNECTION_NOMINATIONS,
  ...FORWARDED_TRUST,
];

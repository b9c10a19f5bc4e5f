/**
 * Fields a client names in `Connection` are hop-by-hop and removed — except Host (end-to-end, RFC
 * 9112 §3.2) and what the sidecar itself sets or reads (framing, X-Forwarded-*, X-Request-Id, the
 * trace context): a nomination never takes those from the app.
 */
import { expect } from '@jest/globals';
import { fieldValues, type RawMessage } from '../../support/raw-http.js';
import type { ForwardedCase } from './client-side.cases.js';
import { onlyRequest } from './conformance.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** Host and X-Forwarded-Host as the app received them. */
function hosts(request: RawMessage): [string[], string[]] {
  return [fieldValues(request, 'host'), fieldValues(request, 'x-forwarded-host')];
}

export const CONNECTION_NOMINATIONS: readonly ForwardedCase[] = [
  {
    name: 'Connection: host keeps Host',
    request: 'GET /a HTTP/1.1\r\nHost: t\r\nConnection: host\r\n\r\n',
    app: (requests) => { expect(hosts(onlyRequest(requests))).toEqual([['t'], ['t']]); },
  },
  {
    name: 'Connection: HOST (any case) keeps Host',
    request: 'GET /a HTTP/1.1\r\nHOST: t\r\nCONNECTION: HoSt\r\n\r\n',
    app: (requests) => { expect(hosts(onlyRequest(requests))).toEqual([['t'], ['t']]); },
  },
  {
    name: 'Connection: Host, keep-alive in HTTP/1.0 keeps Host',
    request: 'GET /a HTTP/1.0\r\nHost: t\r\nConnection: Host, keep-alive\r\n\r\n',
    app: (requests) => { expect(hosts(onlyRequest(requests))).toEqual([['t'], ['t']]); },
  },
  {
    name: 'Connection: host, x-forwarded-host leaves the app its host information',
    request: 'GET /a HTTP/1.1\r\nhost: t\r\nconnection: host, x-forwarded-host\r\n\r\n',
    app: (requests) => { expect(hosts(onlyRequest(requests))).toEqual([['t'], ['t']]); },
  },
  {
    name: 'Host named in a second Connection field, among other names, is kept; the others go',
    request: 'GET /a HTTP/1.1\r\nhost: t\r\nconnection: keep-alive\r\nconnection: x-secret, host\r\nx-secret: 1\r\n\r\n',
    app: (requests) => {
      const request = onlyRequest(requests);
      expect([hosts(request), fieldValues(request, 'x-secret')]).toEqual([[['t'], ['t']], []]);
    },
  },
  {
    name: 'the sidecar\'s own fields survive being named: X-Forwarded-For, X-Request-Id, traceparent, Content-Length',
    request: 'POST /a HTTP/1.1\r\nhost: t\r\nconnection: x-forwarded-for, x-request-id, traceparent, tracestate, content-length, x-forwarded-proto\r\n'
      + `x-forwarded-for: 203.0.113.7\r\nx-request-id: abc-123\r\ntraceparent: ${TRACEPARENT}\r\ntracestate: v=1\r\ncontent-length: 2\r\n\r\nok`,
    app: (requests) => {
      const request = onlyRequest(requests);
      expect({
        forwardedFor: fieldValues(request, 'x-forwarded-for'),
        forwardedProto: fieldValues(request, 'x-forwarded-proto'),
        requestId: fieldValues(request, 'x-request-id'),
        traceparent: fieldValues(request, 'traceparent'),
        tracestate: fieldValues(request, 'tracestate'),
        body: request.body.toString(),
      }).toEqual({
        forwardedFor: ['203.0.113.7, 127.0.0.1'],
        forwardedProto: ['http'],
        requestId: ['abc-123'],
        traceparent: [TRACEPARENT],
        tracestate: ['v=1'],
        body: 'ok',
      });
    },
  },
];

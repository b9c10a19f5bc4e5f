/**
 * X-Forwarded-Proto and X-Forwarded-Host reach the app as the client sent them only from a peer in
 * the policy's `trustedProxies`; from any other peer (by default: every peer) the sidecar sets
 * them itself, so no client can claim https or another host. X-Forwarded-For is appended either way.
 */
import { expect } from '@jest/globals';
import { fieldValues } from '../../support/raw-http.js';
import type { ForwardedCase } from './client-side.cases.js';
import { CONFORMANCE_POLICY, onlyRequest } from './conformance.js';

const SPOOFING = 'GET / HTTP/1.1\r\nhost: app.example\r\nx-forwarded-proto: https\r\nx-forwarded-host: evil.example\r\nx-forwarded-for: 203.0.113.7\r\n\r\n';

/** X-Forwarded-Proto, -Host and -For as the app received them. */
function forwarded(requests: Parameters<ForwardedCase['app']>[0]): [string[], string[], string[]] {
  const request = onlyRequest(requests);
  return [fieldValues(request, 'x-forwarded-proto'), fieldValues(request, 'x-forwarded-host'), fieldValues(request, 'x-forwarded-for')];
}

const SET_BY_THE_SIDECAR = [['http'], ['app.example'], ['203.0.113.7, 127.0.0.1']];
const AS_SENT = [['https'], ['evil.example'], ['203.0.113.7, 127.0.0.1']];

export const FORWARDED_TRUST: readonly ForwardedCase[] = [
  {
    name: 'by default, a client\'s X-Forwarded-Proto and X-Forwarded-Host are replaced by what the sidecar saw',
    request: SPOOFING,
    app: (requests) => { expect(forwarded(requests)).toEqual(SET_BY_THE_SIDECAR); },
  },
  {
    name: 'several X-Forwarded-Proto and X-Forwarded-Host fields from an untrusted client become one each',
    request: 'GET / HTTP/1.1\r\nhost: app.example\r\nx-forwarded-proto: https\r\nX-Forwarded-Proto: wss\r\nx-forwarded-host: a.example\r\nX-FORWARDED-HOST: b.example\r\n\r\n',
    app: (requests) => { expect(forwarded(requests).slice(0, 2)).toEqual(SET_BY_THE_SIDECAR.slice(0, 2)); },
  },
  {
    name: 'from a peer outside trustedProxies, they are replaced',
    request: SPOOFING,
    policy: { ...CONFORMANCE_POLICY, trustedProxies: ['10.0.0.0/8', 'fd00::/8'] },
    app: (requests) => { expect(forwarded(requests)).toEqual(SET_BY_THE_SIDECAR); },
  },
  {
    name: 'from a peer in trustedProxies (a CIDR range), they are kept as sent',
    request: SPOOFING,
    policy: { ...CONFORMANCE_POLICY, trustedProxies: ['10.0.0.0/8', '127.0.0.0/8'] },
    app: (requests) => { expect(forwarded(requests)).toEqual(AS_SENT); },
  },
  {
    name: 'from a trusted peer that sent none, they are set by the sidecar',
    request: 'GET / HTTP/1.1\r\nhost: app.example\r\nx-forwarded-for: 203.0.113.7\r\n\r\n',
    policy: { ...CONFORMANCE_POLICY, trustedProxies: ['127.0.0.1'] },
    app: (requests) => { expect(forwarded(requests)).toEqual(SET_BY_THE_SIDECAR); },
  },
];

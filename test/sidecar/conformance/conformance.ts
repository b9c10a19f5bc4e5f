/**
 * What every conformance test shares: one policy that makes breaker effects visible in two requests,
 * and the checks for a response the sidecar generated. Data-path agnostic: the proxy is reached
 * only through the harness (createProxyServer) and raw bytes on real sockets.
 */
import { expect } from '@jest/globals';
import type { Reason } from '../../../sidecar/contracts.js';
import type { Harness } from '../../support/sidecar-harness.js';
import { field, type RawMessage } from '../../support/raw-http.js';
import type { RawReply } from '../../support/raw-client.js';

/**
 * Two failures in a row open the circuit (volumeThreshold 2, 50 %); a request that is not counted
 * at all leaves it to the next two. Short timeouts so stalls are quick to test.
 */
export const CONFORMANCE_POLICY = {
  timeouts: { connect: '1s', response: '800ms', requestBodyIdle: '400ms', responseBodyIdle: '400ms' },
  circuitBreaker: { volumeThreshold: 2, errorThresholdPercentage: 50, rollingWindow: '30s', resetTimeout: '30s' },
  retry: { attempts: 1 },
} as const;

/** A Host-carrying GET; the default request of app-side cases. */
export const GET = 'GET / HTTP/1.1\r\nhost: app.example\r\n\r\n';

/** The one request the app received; fails the test when it got none or several. */
export function onlyRequest(requests: RawMessage[]): RawMessage {
  expect(requests).toHaveLength(1);
  return requests[0] as RawMessage;
}

/** The one final response of a reply; fails the test when there is none (an empty reply). */
export function onlyResponse(reply: RawReply): RawMessage {
  expect({ responses: reply.responses.length, bytes: reply.bytes.toString('latin1').slice(0, 300) })
    .toEqual({ responses: 1, bytes: expect.any(String) });
  return reply.responses[0] as RawMessage;
}

/** A complete, well-formed response the sidecar itself generated, with its reason and Proxy-Status. */
export function expectSidecarAnswer(response: RawMessage, status: number, reason: Reason, proxyError: string): void {
  expect({
    status: response.status,
    reason: field(response, 'x-badgateway-reason'),
    proxyStatus: field(response, 'proxy-status'),
    requestId: field(response, 'x-request-id'),
    complete: response.complete,
  }).toEqual({
    status,
    reason,
    proxyStatus: expect.stringMatching(new RegExp(`^badgateway; error=${proxyError}\\b`)),
    requestId: expect.stringMatching(/^[\x21-\x7e]+$/),
    complete: true,
  });
}

/** The metric the data path reported for the one request of a case. */
export function expectOneRequestMetric(sidecar: Harness, code: number, reason: Reason | ''): void {
  expect(sidecar.metrics.requests).toEqual([{ code, reason }]);
}

/**
 * A real @grpc/grpc-js client with a retry policy against the sidecar's open circuit: the
 * Trailers-Only UNAVAILABLE carries grpc-retry-pushback-ms (gRFC A6), and the client waits exactly
 * that long instead of its own 10 ms backoff — so its retry meets the breaker's trial, which the
 * (recovered) app answers. Without the pushback its five attempts are spent within milliseconds on
 * the open circuit and the call fails.
 */
import { describe, expect, it } from '@jest/globals';
import { Client, credentials, Server, ServerCredentials, status, type ServiceError } from '@grpc/grpc-js';
import { grpcFrame, grpcHeaders, h2Fixtures, h2Request } from '../../support/h2.js';

const h2 = h2Fixtures();
const METHOD = '/badgateway.test.Probe/Call';
const identity = (bytes: Buffer): Buffer => bytes;

/** A grpc-js server (h2c) whose one method fails UNAVAILABLE until `healthy`. */
async function probeApp(): Promise<{ url: string; calls: () => number; recover(): void; close(): Promise<void> }> {
  let healthy = false;
  let calls = 0;
  const server = new Server();
  server.addService({
    Call: { path: METHOD, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  }, {
    Call: (_call: unknown, callback: (error: Partial<ServiceError> | null, value?: Buffer) => void) => {
      calls += 1;
      if (healthy) callback(null, Buffer.from('pong'));
      else callback({ code: status.UNAVAILABLE, details: 'warming up' });
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error === null ? resolve(bound) : reject(error))));
  return {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls,
    recover: () => { healthy = true; },
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

const retryPolicy = JSON.stringify({
  methodConfig: [{
    name: [{ service: 'badgateway.test.Probe' }],
    retryPolicy: { maxAttempts: 5, initialBackoff: '0.01s', maxBackoff: '0.01s', backoffMultiplier: 1, retryableStatusCodes: ['UNAVAILABLE'] },
  }],
});

function unaryCall(client: Client): Promise<{ value?: Buffer; error?: ServiceError }> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(METHOD, identity, identity, Buffer.from('ping'), (error, value) => resolve(error === null ? { value } : { error }));
  });
}

describe('a @grpc/grpc-js client with a retry policy', () => {
  it('honours the open circuit\'s grpc-retry-pushback-ms and reaches the app at the breaker\'s trial', async () => {
    const app = h2.track(await probeApp());
    const sidecar = await h2.sidecar(app.url, { timeouts: { response: '1s' }, circuitBreaker: { volumeThreshold: 1, resetTimeout: '1500ms' } }, 'h2c');
    // One UNAVAILABLE from the app opens the circuit (failureGrpcCodes [14]).
    const tripped = await h2Request(h2.client(sidecar.url), grpcHeaders(METHOD), grpcFrame('ping'));
    expect(tripped.headers['grpc-status']).toBe('14');
    expect(sidecar.proxy.breakerState()).toBe('open');
    app.recover();

    const client = h2.track(new Client(`127.0.0.1:${sidecar.port}`, credentials.createInsecure(), { 'grpc.service_config': retryPolicy }));
    const reply = await unaryCall(client);
    expect(reply.error?.details).toBeUndefined();
    expect(reply.value?.toString()).toBe('pong');
    expect(app.calls()).toBe(2); // the tripping call and the trial: none of the retries hit the app early
    const openAnswers = sidecar.metrics.requests.filter((request) => request.reason === 'circuit-open').length;
    // The first attempt met the open circuit; its retry waited for the trial. (A second open answer
    // is possible only if the retry's timer and the breaker's fired in the same millisecond.)
    expect(openAnswers).toBeGreaterThanOrEqual(1);
    expect(openAnswers).toBeLessThanOrEqual(2);
  }, 30_000);
});

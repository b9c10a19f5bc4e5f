import { describe, expect, it } from '@jest/globals';
import { constants } from 'node:http2';
import { eventually } from '../../support/cli.js';
import { closedPort } from '../../support/faulty-upstream.js';
import { grpcFrame, grpcHeaders, h2Fixtures, h2Request } from '../../support/h2.js';

const noTrip = { circuitBreaker: { volumeThreshold: 1000 } };
const h2 = h2Fixtures();

/** A unary gRPC answer: a head, one message, trailers with `status`. */
function unary(status = 0, message?: string) {
  return (stream: import('node:http2').ServerHttp2Stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(status), ...(message === undefined ? {} : { 'grpc-message': message }) }));
    stream.end(grpcFrame('pong'));
  };
}

describe('gRPC through the sidecar to an h2c app', () => {
  it('passes a unary call with its trailers and metadata, the headers cleaned as for HTTP/1.1', async () => {
    const app = await h2.app();
    app.handler = unary(0);
    const sidecar = await h2.sidecar(app.url, noTrip, 'h2c');
    const reply = await h2Request(h2.client(sidecar.url), grpcHeaders('/echo.Echo/Ping', { 'x-custom': 'kept', 'x-request-id': 'call-1' }), grpcFrame('ping'));
    expect(reply.headers[':status']).toBe(200);
    expect(reply.headers['x-request-id']).toBe('call-1');
    expect(reply.body.subarray(5).toString()).toBe('pong');
    expect(reply.trailers?.['grpc-status']).toBe('0');
    const seen = app.seen[0];
    expect(seen?.headers[':path']).toBe('/echo.Echo/Ping');
    expect(seen?.headers.te).toBe('trailers');
    expect(seen?.headers['x-custom']).toBe('kept');
    expect(seen?.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen?.body.subarray(5).toString()).toBe('ping');
    expect(sidecar.metrics.requests).toEqual([{ code: 200, reason: '' }]);
    expect(sidecar.metrics.http2Requests).toEqual([{ kind: 'grpc', grpcStatus: '0' }]);
  });

  it('keeps the app\'s Trailers-Only answer Trailers-Only, and counts grpc-status 14 as a breaker failure', async () => {
    const app = await h2.app();
    app.handler = (stream) => stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'down' }, { endStream: true });
    const sidecar = await h2.sidecar(app.url, { circuitBreaker: { volumeThreshold: 1, resetTimeout: '30s' } }, 'h2c');
    const client = h2.client(sidecar.url);
    const first = await h2Request(client, grpcHeaders('/svc/M'), grpcFrame(''));
    expect(first.headEnded).toBe(true);
    expect(first.headers['grpc-status']).toBe('14');
    expect(first.headers['x-badgateway-reason']).toBeUndefined();
    const second = await h2Request(client, grpcHeaders('/svc/M'), grpcFrame(''));
    expect(second.headEnded).toBe(true);
    expect(second.headers).toMatchObject({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'x-badgateway-reason': 'circuit-open', 'proxy-status': 'badgateway; error=destination_unavailable' });
    const pushback = Number(second.headers['grpc-retry-pushback-ms']);
    expect(pushback).toBeGreaterThan(25_000);
    expect(pushback).toBeLessThanOrEqual(30_000);
    expect(decodeURIComponent(String(second.headers['grpc-message']))).toMatch(/circuit-open/);
    expect(app.seen).toHaveLength(1);
  });

  it('answers overload with UNAVAILABLE and the policy\'s retryAfter as pushback', async () => {
    const app = await h2.app();
    app.handler = () => undefined; // holds the one slot
    const sidecar = await h2.sidecar(app.url, { ...noTrip, retryAfter: '3s', overload: { mode: 'enforce', limit: 1, queue: { size: 0 } } }, 'h2c');
    const client = h2.client(sidecar.url);
    const held = client.request(grpcHeaders('/svc/Hold'));
    held.end(grpcFrame(''));
    await eventually(() => app.seen.length === 1, 10_000, 'the held call at the app');
    const shed = await h2Request(client, grpcHeaders('/svc/M'), grpcFrame(''));
    expect(shed.headers).toMatchObject({ 'grpc-status': '14', 'x-badgateway-reason': 'overloaded', 'proxy-status': 'badgateway; error=connection_limit_reached', 'grpc-retry-pushback-ms': '3000' });
    held.close();
  });

  it('does not count grpc-status codes outside failureGrpcCodes', async () => {
    const app = await h2.app();
    app.handler = unary(5, 'not found');
    const sidecar = await h2.sidecar(app.url, { circuitBreaker: { volumeThreshold: 1 } }, 'h2c');
    const client = h2.client(sidecar.url);
    for (let call = 0; call < 3; call += 1) {
      const reply = await h2Request(client, grpcHeaders('/svc/M'), grpcFrame(''));
      expect(reply.trailers?.['grpc-status']).toBe('5');
    }
    expect(app.seen).toHaveLength(3);
  });

  it('answers a refused connection with Trailers-Only UNAVAILABLE, reason and Proxy-Status', async () => {
    const sidecar = await h2.sidecar(`http://127.0.0.1:${await closedPort()}`, noTrip, 'h2c');
    const reply = await h2Request(h2.client(sidecar.url), grpcHeaders('/svc/M'), grpcFrame(''));
    expect(reply.headEnded).toBe(true);
    expect(reply.headers).toMatchObject({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'x-badgateway-reason': 'connect-failed', 'proxy-status': 'badgateway; error=connection_refused' });
    expect(sidecar.metrics.requests).toEqual([{ code: 502, reason: 'connect-failed' }]);
    expect(sidecar.metrics.http2Requests).toEqual([{ kind: 'grpc', grpcStatus: '14' }]);
  });

  it('ends an expired grpc-timeout in DEADLINE_EXCEEDED and counts nothing against the app', async () => {
    const app = await h2.app();
    app.handler = () => undefined; // never answers
    const sidecar = await h2.sidecar(app.url, { circuitBreaker: { volumeThreshold: 1 } }, 'h2c');
    const client = h2.client(sidecar.url);
    const reply = await h2Request(client, grpcHeaders('/svc/Slow', { 'grpc-timeout': '200m' }), grpcFrame(''));
    expect(reply.headers).toMatchObject({ 'grpc-status': '4', 'x-badgateway-reason': 'timeout' });
    app.handler = unary(0);
    const next = await h2Request(client, grpcHeaders('/svc/M'), grpcFrame(''));
    expect(next.trailers?.['grpc-status']).toBe('0'); // the circuit stayed closed
  });

  it('ends timeouts.response in DEADLINE_EXCEEDED, counted as the app\'s failure', async () => {
    const app = await h2.app();
    app.handler = () => undefined;
    const sidecar = await h2.sidecar(app.url, { timeouts: { response: '200ms' }, circuitBreaker: { volumeThreshold: 1, resetTimeout: '30s' } }, 'h2c');
    const client = h2.client(sidecar.url);
    const reply = await h2Request(client, grpcHeaders('/svc/Slow'), grpcFrame(''));
    expect(reply.headers).toMatchObject({ 'grpc-status': '4', 'x-badgateway-reason': 'timeout', 'proxy-status': 'badgateway; error=http_response_timeout' });
    const next = await h2Request(client, grpcHeaders('/svc/M'), grpcFrame(''));
    expect(next.headers['x-badgateway-reason']).toBe('circuit-open');
  });

  it('turns an app reset after the head into trailers with UNAVAILABLE, never a clean end', async () => {
    const app = await h2.app();
    app.handler = (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.write(grpcFrame('partial'));
      setTimeout(() => stream.destroy(new Error('the app crashed')), 20); // RST_STREAM INTERNAL_ERROR
    };
    const sidecar = await h2.sidecar(app.url, noTrip, 'h2c');
    const reply = await h2Request(h2.client(sidecar.url), grpcHeaders('/svc/M'), grpcFrame(''));
    expect(reply.headers[':status']).toBe(200);
    expect(reply.trailers).toMatchObject({ 'grpc-status': '14', 'x-badgateway-reason': 'body-truncated' });
    expect(sidecar.metrics.requests).toEqual([{ code: 200, reason: 'body-truncated' }]);
  });

  it('retries a stream the app refused (GOAWAY) on a new session, and nothing else', async () => {
    const app = await h2.app();
    let calls = 0;
    app.handler = (stream) => {
      calls += 1;
      if (calls === 1) {
        stream.session?.goaway(constants.NGHTTP2_NO_ERROR, 0); // processed nothing
        stream.close(constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      unary(0)(stream);
    };
    const sidecar = await h2.sidecar(app.url, noTrip, 'h2c');
    const reply = await h2Request(h2.client(sidecar.url), grpcHeaders('/svc/M'), grpcFrame('once'));
    expect(reply.trailers?.['grpc-status']).toBe('0');
    expect(app.seen).toHaveLength(2);
    expect(app.seen[1]?.body.subarray(5).toString()).toBe('once'); // the kept body, sent again
    expect(app.sessions).toBe(2);
  });

  it('passes a plain HTTP/2 request to an h2c app', async () => {
    const app = await h2.app();
    const sidecar = await h2.sidecar(app.url, noTrip, 'h2c');
    const reply = await h2Request(h2.client(sidecar.url), { ':path': '/page', 'x-request-id': 'plain-1' });
    expect(reply.headers[':status']).toBe(200);
    expect(sidecar.metrics.http2Requests).toEqual([{ kind: 'http', grpcStatus: '' }]);
    expect(reply.body.toString()).toBe('hello over h2c');
    expect(app.seen[0]?.headers['x-request-id']).toBe('plain-1');
  });
});

describe('badgateway_http2_requests_total', () => {
  it('is exported by kind and the gRPC status the client got', async () => {
    const { PrometheusSidecarMetrics } = await import('../../../sidecar/metrics.js');
    const metrics = new PrometheusSidecarMetrics({ processMetrics: false });
    metrics.http2Request('grpc', '14');
    metrics.http2Request('http', '');
    const text = await metrics.registry.metrics();
    expect(text).toContain('badgateway_http2_requests_total{kind="grpc",grpc_status="14"} 1');
    expect(text).toContain('badgateway_http2_requests_total{kind="http",grpc_status=""} 1');
  });
});

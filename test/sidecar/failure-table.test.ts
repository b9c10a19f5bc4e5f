import { describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { closedPort } from '../support/faulty-upstream.js';
import { fetchText, sidecarFixtures } from '../support/sidecar-harness.js';

const noTrip = { circuitBreaker: { volumeThreshold: 1000 } };
const fixtures = sidecarFixtures();

const get = fetchText;

describe('failure table', () => {
  it('passes a healthy response through with the request id', async () => {
    const upstream = await fixtures.upstream();
    const sidecar = await fixtures.sidecar(upstream.url, noTrip);
    const response = await get(`${sidecar.url}/hello?x=1`, { 'x-request-id': 'abc-123' });
    expect(response).toMatchObject({ status: 200, body: 'hello from the app' });
    expect(response.headers['x-request-id']).toBe('abc-123');
    expect(response.headers['x-badgateway-reason']).toBeUndefined();
    expect(upstream.seen[0]).toMatchObject({ method: 'GET', url: '/hello?x=1' });
  });

  it('refused connection → 502 connect-failed', async () => {
    const sidecar = await fixtures.sidecar(`http://127.0.0.1:${await closedPort()}`, noTrip);
    const response = await get(sidecar.url, { accept: 'application/json' });
    expect(response.status).toBe(502);
    expect(response.headers['x-badgateway-reason']).toBe('connect-failed');
    expect(response.headers['proxy-status']).toBe('badgateway; error=connection_refused');
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(response.body)).toMatchObject({ title: 'Bad Gateway', status: 502, reason: 'connect-failed', requestId: response.headers['x-request-id'] });
    expect(sidecar.metrics.requests).toEqual([{ code: 502, reason: 'connect-failed' }]);
  });

  it('no headers within timeouts.response → timeoutStatus, timeout', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'hang' };
    const sidecar = await fixtures.sidecar(upstream.url, { ...noTrip, timeouts: { response: '300ms' }, circuitBreaker: { volumeThreshold: 1000, resetTimeout: '1s' } });
    const started = Date.now();
    const response = await get(sidecar.url);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(response.status).toBe(504);
    expect(response.headers['x-badgateway-reason']).toBe('timeout');
    expect(response.headers['proxy-status']).toBe('badgateway; error=http_response_timeout');
  });

  it('timeoutStatus 502 is honoured', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'hang' };
    const sidecar = await fixtures.sidecar(upstream.url, { timeoutStatus: 502, timeouts: { response: '200ms' }, circuitBreaker: { volumeThreshold: 1000, resetTimeout: '1s' } });
    expect((await get(sidecar.url)).status).toBe(502);
  });

  it('reset before headers → 502 reset, after one safe retry on a fresh connection', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'reset' };
    const sidecar = await fixtures.sidecar(upstream.url, noTrip);
    const response = await get(sidecar.url);
    expect(response.status).toBe(502);
    expect(response.headers['x-badgateway-reason']).toBe('reset');
    expect(response.headers['proxy-status']).toBe('badgateway; error=connection_terminated');
    expect(upstream.seen).toHaveLength(2);
  });

  it('unparseable response → 502 invalid-response', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'garbage' };
    const sidecar = await fixtures.sidecar(upstream.url, noTrip);
    const response = await get(sidecar.url);
    expect(response.status).toBe(502);
    expect(response.headers['x-badgateway-reason']).toBe('invalid-response');
    expect(response.headers['proxy-status']).toBe('badgateway; error=http_protocol_error');
  });

  it('failure mid-body aborts the client connection instead of faking a complete response', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'mid-body-failure' };
    const sidecar = await fixtures.sidecar(upstream.url, noTrip);
    const response = await request(sidecar.url);
    expect(response.statusCode).toBe(200);
    await expect(response.body.text()).rejects.toThrow();
  });

  it("the app's own 5xx passes through untouched", async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'status', status: 503, body: 'app maintenance page' };
    const sidecar = await fixtures.sidecar(upstream.url, noTrip);
    const response = await get(sidecar.url, { accept: 'text/html' });
    expect(response).toMatchObject({ status: 503, body: 'app maintenance page' });
    expect(response.headers['x-badgateway-reason']).toBeUndefined();
    expect(response.headers['proxy-status']).toBeUndefined();
    expect(sidecar.metrics.requests).toEqual([{ code: 503, reason: '' }]);
  });
});

describe('failure table: name resolution', () => {
  it('an upstream host that does not resolve → 502 connect-failed, dns_error', async () => {
    const sidecar = await fixtures.sidecar('http://badgateway-test-upstream.invalid:8080', noTrip);
    const response = await get(sidecar.url);
    expect(response.status).toBe(502);
    expect(response.headers['x-badgateway-reason']).toBe('connect-failed');
    expect(response.headers['proxy-status']).toBe('badgateway; error=dns_error');
  });
});

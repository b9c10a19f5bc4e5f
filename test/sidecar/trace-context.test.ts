/**
 * Trace correlation: the W3C traceparent parser (valid and invalid per the spec), traceparent and
 * tracestate forwarded untouched, and the trace id next to the request id in the sidecar's error
 * pages (problem+json, HTML, plain text) and its access log.
 */
import { describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { ErrorPages } from '../../sidecar/error-pages.js';
import { createProxyServer } from '../../sidecar/proxy-server.js';
import { traceIdOf } from '../../sidecar/http1/trace-context.js';
import { capturingLogger } from '../support/capturing-logger.js';
import { closedPort } from '../support/faulty-upstream.js';
import { RecordingMetrics } from '../support/recording-metrics.js';
import { fetchText, sidecarConfig, sidecarFixtures } from '../support/sidecar-harness.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;
const TRACESTATE = 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7';

describe('traceIdOf (W3C Trace Context)', () => {
  it('reads the trace id of a valid traceparent', () => {
    expect(traceIdOf(TRACEPARENT)).toBe(TRACE_ID);
    expect(traceIdOf(`00-${TRACE_ID}-00f067aa0ba902b7-00`)).toBe(TRACE_ID);
    // A later version may append fields after a dash.
    expect(traceIdOf(`cc-${TRACE_ID}-00f067aa0ba902b7-01-what-comes-next`)).toBe(TRACE_ID);
    expect(traceIdOf(`01-${TRACE_ID}-00f067aa0ba902b7-09`)).toBe(TRACE_ID);
  });

  it.each([
    ['missing', undefined],
    ['repeated (an array)', [TRACEPARENT, TRACEPARENT]],
    ['two joined by Node', `${TRACEPARENT}, ${TRACEPARENT}`],
    ['version ff', `ff-${TRACE_ID}-00f067aa0ba902b7-01`],
    ['version 00 with extra fields', `${TRACEPARENT}-extra`],
    ['later version with a non-dash after the flags', `cc-${TRACE_ID}-00f067aa0ba902b7-01x`],
    ['uppercase hex', `00-${TRACE_ID.toUpperCase()}-00f067aa0ba902b7-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['all-zero parent id', `00-${TRACE_ID}-0000000000000000-01`],
    ['short trace id', `00-${TRACE_ID.slice(1)}-00f067aa0ba902b7-01x`],
    ['wrong separators', `00_${TRACE_ID}_00f067aa0ba902b7_01`],
    ['non-hex flags', `00-${TRACE_ID}-00f067aa0ba902b7-zz`],
    ['HTML in it', `00-${TRACE_ID}-00f067aa0ba902b7-<b`],
  ])('has no trace id when %s', (_case, value) => {
    expect(traceIdOf(value)).toBeUndefined();
  });
});

describe('error pages carry the trace id next to the request id', () => {
  const pages = new ErrorPages(sidecarConfig({}));

  it('problem+json: a traceId field, only when there is one', () => {
    expect(JSON.parse(pages.render(502, 'connect-failed', 'req-1', 'application/json', TRACE_ID).body)).toMatchObject({ requestId: 'req-1', traceId: TRACE_ID });
    expect(JSON.parse(pages.render(502, 'connect-failed', 'req-1', 'application/json').body)).not.toHaveProperty('traceId');
  });

  it('HTML: a reference after the request id; plain text: the id', () => {
    expect(pages.render(504, 'timeout', 'req-1', 'text/html', TRACE_ID).body).toContain(`Request ID: req-1 &middot; Trace ID: ${TRACE_ID} &middot;`);
    expect(pages.render(504, 'timeout', 'req-1', 'text/html').body).toContain('Request ID: req-1 &middot; reason: timeout');
    expect(pages.render(503, 'circuit-open', 'req-1', undefined, TRACE_ID).body).toBe(`503 Service Unavailable: ${'The application is failing; requests are paused for a moment to let it recover.'} (reason: circuit-open, request id: req-1, trace id: ${TRACE_ID})\n`);
  });
});

describe('through the sidecar', () => {
  const fixtures = sidecarFixtures();

  it('forwards traceparent and tracestate untouched, valid or not', async () => {
    const upstream = await fixtures.upstream();
    const sidecar = await fixtures.sidecar(upstream.url);
    await fetchText(`${sidecar.url}/`, { traceparent: TRACEPARENT, tracestate: TRACESTATE });
    await fetchText(`${sidecar.url}/`, { traceparent: 'not-a-traceparent', tracestate: 'x=1' });
    expect(upstream.seen.map((seen) => [seen.headers.traceparent, seen.headers.tracestate])).toEqual([[TRACEPARENT, TRACESTATE], ['not-a-traceparent', 'x=1']]);
  });

  it('a 502 for a traced request and its access log line carry the trace id next to the request id', async () => {
    const { lines, logger } = capturingLogger('sidecar');
    const proxy = createProxyServer({ upstream: new URL(`http://127.0.0.1:${await closedPort()}`), config: { current: () => sidecarConfig({}) }, metrics: new RecordingMetrics(), logger });
    const { port } = await proxy.listen('127.0.0.1', 0);
    try {
      const response = await request(`http://127.0.0.1:${port}/orders`, { headers: { traceparent: TRACEPARENT, 'x-request-id': 'req-7', accept: 'application/json' } });
      const problem = await response.body.json() as Record<string, unknown>;
      expect(response.statusCode).toBe(502);
      expect(problem).toMatchObject({ reason: 'connect-failed', requestId: 'req-7', traceId: TRACE_ID });
      await request(`http://127.0.0.1:${port}/untraced`).then((untraced) => untraced.body.dump());
      const access = lines.filter((line) => line.msg === 'request');
      expect(access.map((line) => [line.path, line.requestId, line.traceId])).toEqual([['/orders', 'req-7', TRACE_ID], ['/untraced', expect.any(String), undefined]]);
    } finally {
      await proxy.close();
    }
  });

  it('the open circuit\'s fast 503/502 carries it too', async () => {
    const sidecar = await fixtures.sidecar(`http://127.0.0.1:${await closedPort()}`, { circuitBreaker: { volumeThreshold: 1, errorThresholdPercentage: 1 } });
    for (let attempt = 0; attempt < 3; attempt += 1) await fetchText(`${sidecar.url}/`);
    const open = await fetchText(`${sidecar.url}/`, { traceparent: TRACEPARENT, accept: 'application/json' });
    expect(open.headers['x-badgateway-reason']).toBe('circuit-open');
    expect(JSON.parse(open.body)).toMatchObject({ reason: 'circuit-open', traceId: TRACE_ID });
  });
});

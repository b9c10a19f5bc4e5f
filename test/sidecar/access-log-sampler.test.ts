/** The open circuit's access log: written, but rate-limited, with what was left out counted. */
import { describe, expect, it } from '@jest/globals';
import { createAccessLogSampler, type FastFailureLine } from '../../sidecar/access-log-sampler.js';
import type { Reason } from '../../sidecar/contracts.js';
import { PrometheusSidecarMetrics } from '../../sidecar/metrics.js';
import { capturingLogger } from '../support/capturing-logger.js';
import { eventually } from '../support/cli.js';
import { fetchText, sidecarFixtures } from '../support/sidecar-harness.js';

const fixtures = sidecarFixtures();
const line = (requestId: string): FastFailureLine => ({ method: 'GET', path: '/cart', status: 502, reason: 'circuit-open', requestId, traceId: undefined });

describe('access-log sampler', () => {
  it('writes a burst, then perSecond lines a second, and says how many it left out', () => {
    let now = 0;
    const skipped: Reason[] = [];
    const { lines, logger } = capturingLogger();
    const sampler = createAccessLogSampler({ perSecond: 2, burst: 3, now: () => now, onSkipped: (reason) => skipped.push(reason) });
    for (let index = 0; index < 10; index += 1) sampler.log(logger, line(`id-${index}`));
    expect(lines.map((line) => line['requestId'])).toEqual(['id-0', 'id-1', 'id-2']);
    expect(sampler.skippedTotal()).toBe(7);
    expect(skipped).toHaveLength(7);

    now = 500; // one token back
    sampler.log(logger, line('id-10'));
    sampler.log(logger, line('id-11'));
    expect(lines.at(-1)).toMatchObject({ msg: 'request', method: 'GET', path: '/cart', status: 502, reason: 'circuit-open', requestId: 'id-10', skipped: 7 });
    expect(sampler.skippedTotal()).toBe(8);

    now = 60_000; // a long quiet stretch refills only up to the burst
    for (let index = 0; index < 5; index += 1) sampler.log(logger, line(`later-${index}`));
    expect(lines.filter((line) => String(line['requestId']).startsWith('later-'))).toHaveLength(3);
    expect(lines.find((line) => line['requestId'] === 'later-0')?.['skipped']).toBe(1);
  });

  it('exports what it left out as badgateway_access_log_skipped_total', async () => {
    const metrics = new PrometheusSidecarMetrics({ processMetrics: false });
    expect(await metrics.text()).toContain('badgateway_access_log_skipped_total{reason="circuit-open"} 0');
    for (let index = 0; index < 3; index += 1) metrics.accessLogSkipped('circuit-open');
    expect(await metrics.text()).toContain('badgateway_access_log_skipped_total{reason="circuit-open"} 3');
  });
});

describe('open-circuit answers in the access log', () => {
  it('logs the request id printed on the error page, and counts the lines over the rate', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'status', status: 503 };
    const { lines, logger } = capturingLogger('sidecar');
    const sidecar = await fixtures.sidecar(upstream.url, { circuitBreaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeout: '30s' } }, undefined, logger);
    for (let index = 0; index < 2; index += 1) await fetchText(sidecar.url);
    await eventually(() => sidecar.proxy.breakerState() === 'open', 10_000, 'open');

    const page = await fetchText(sidecar.url, { accept: 'text/plain', 'x-request-id': 'find-me-123' });
    expect(page.headers['x-badgateway-reason']).toBe('circuit-open');
    expect(page.body).toContain('find-me-123');
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'request', reason: 'circuit-open', status: 502, requestId: 'find-me-123' }));

    // An outage's flood: far more than the burst (20) at once; the lines over the rate are counted, not written.
    await Promise.all(Array.from({ length: 60 }, () => fetchText(sidecar.url)));
    const written = lines.filter((line) => line['reason'] === 'circuit-open').length;
    expect(sidecar.metrics.accessLogSkips.length).toBeGreaterThan(0);
    expect(new Set(sidecar.metrics.accessLogSkips)).toEqual(new Set(['circuit-open']));
    expect(written + sidecar.metrics.accessLogSkips.length).toBe(61);
  });
});

import { describe, expect, it } from '@jest/globals';
import { PrometheusSidecarMetrics } from '../../sidecar/metrics.js';

function requestLines(text: string): string[] {
  return text.split('\n').filter((line) => line.startsWith('badgateway_requests_total{'));
}

describe('Prometheus sidecar metrics', () => {
  it('counts requests per status and reason, exactly across repeated scrapes', async () => {
    const metrics = new PrometheusSidecarMetrics({ processMetrics: false });
    for (let index = 0; index < 3; index += 1) metrics.request(502, 'circuit-open');
    metrics.request(200, '');
    expect(requestLines(await metrics.text())).toEqual([
      'badgateway_requests_total{code="502",reason="circuit-open"} 3',
      'badgateway_requests_total{code="200",reason=""} 1',
    ]);
    expect(requestLines(await metrics.text())).toHaveLength(2); // a scrape alone adds nothing
    expect(requestLines(await metrics.text())).toContain('badgateway_requests_total{code="502",reason="circuit-open"} 3');
    metrics.request(502, 'circuit-open');
    metrics.request(504, 'timeout');
    expect(requestLines(await metrics.text())).toEqual([
      'badgateway_requests_total{code="502",reason="circuit-open"} 4',
      'badgateway_requests_total{code="200",reason=""} 1',
      'badgateway_requests_total{code="504",reason="timeout"} 1',
    ]);
  });

  it('keeps separate counts per instance', async () => {
    const first = new PrometheusSidecarMetrics({ processMetrics: false });
    const second = new PrometheusSidecarMetrics({ processMetrics: false });
    first.request(502, 'reset');
    expect(requestLines(await first.text())).toEqual(['badgateway_requests_total{code="502",reason="reset"} 1']);
    expect(requestLines(await second.text())).toEqual([]);
  });

  it('counts client connection errors by kind, every kind present from the start', async () => {
    const metrics = new PrometheusSidecarMetrics({ processMetrics: false });
    metrics.clientConnectionError('reset');
    metrics.clientConnectionError('reset');
    metrics.clientConnectionError('header-timeout');
    const lines = (await metrics.text()).split('\n').filter((line) => line.startsWith('badgateway_client_connection_errors_total{'));
    expect(lines).toEqual([
      'badgateway_client_connection_errors_total{kind="header-timeout"} 1',
      'badgateway_client_connection_errors_total{kind="body-timeout"} 0',
      'badgateway_client_connection_errors_total{kind="malformed"} 0',
      'badgateway_client_connection_errors_total{kind="reset"} 2',
    ]);
  });
});

/**
 * The metric list of docs/observability.md, generated from the sidecar's and the operator's
 * registries (never hand-kept): name, type, labels and help of every metric they register, the
 * process metrics left out. `UPDATE_DOCS=1` writes it into the doc; the test compares.
 */
import type { Registry } from 'prom-client';
import { createOperatorMetrics } from '../../operator/metrics.js';
import { PrometheusSidecarMetrics } from '../../sidecar/metrics.js';

export const METRICS_BEGIN = '<!-- metrics:begin (generated from the registries by test/support/metric-list.ts) -->';
export const METRICS_END = '<!-- metrics:end -->';

interface RegisteredMetric {
  name: string;
  help: string;
  type: string;
  labelNames?: readonly string[];
}

function table(registry: Registry, processPrefix: string): string {
  const rows = (registry.getMetricsAsArray() as unknown as RegisteredMetric[])
    .filter((metric) => !metric.name.startsWith(`${processPrefix}process_`) && !metric.name.startsWith(`${processPrefix}nodejs_`))
    .map((metric) => {
      const labels = (metric.labelNames ?? []).map((label) => `\`${label}\``).join(', ');
      return `| \`${metric.name}\` | ${metric.type} | ${labels} | ${metric.help.replaceAll('|', '\\|')} |`;
    });
  return ['| metric | type | labels | what it counts |', '|---|---|---|---|', ...rows].join('\n');
}

export function generatedMetricList(): string {
  return [
    METRICS_BEGIN,
    'Sidecar (admin port `8503`, `GET /metrics`), besides Node process metrics:',
    '',
    table(new PrometheusSidecarMetrics({ processMetrics: false }).registry, ''),
    '',
    'Operator (`8080`, `GET /metrics`), besides Node process metrics prefixed `badgateway_operator_`:',
    '',
    table(createOperatorMetrics().registry, 'badgateway_operator_'),
    METRICS_END,
  ].join('\n');
}

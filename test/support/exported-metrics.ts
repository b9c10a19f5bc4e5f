/**
 * The metric names the sidecar and the operator really export, read from their registries (not a
 * hand-kept list), with the series suffixes a histogram adds; and the metric names a PromQL
 * expression uses.
 */
import { PrometheusSidecarMetrics } from '../../sidecar/metrics.js';
import { createOperatorMetrics } from '../../operator/metrics.js';

export async function exportedMetricNames(): Promise<Set<string>> {
  const texts = [await new PrometheusSidecarMetrics({ processMetrics: false }).text(), await createOperatorMetrics().text()];
  const names = new Set<string>();
  for (const text of texts) {
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      names.add(name as string);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    }
  }
  return names;
}

/** Every badgateway_* identifier in a PromQL expression (label values in quotes excluded). */
export function metricNamesIn(expression: string): string[] {
  const withoutStrings = expression.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  return [...new Set(withoutStrings.match(/\bbadgateway_[a-z0-9_]+/g) ?? [])];
}

/**
 * An unlabelled histogram counted in plain numbers on the request path and read by prom-client's
 * registry when scraped, in the shape its own Histogram reports (cumulative `_bucket` lines with
 * `le`, then `_sum` and `_count`). prom-client's `observe()` builds a closure, a labels object and
 * its hash on every call: about 200 bytes of heap and 1.5–2 µs a request (docs/performance.md).
 */
import type { Metric, Registry } from 'prom-client';

interface Sample {
  readonly labels: { le?: number | string };
  readonly value: number;
  readonly metricName: string;
}

export class BucketHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** Observations per bucket; the last one is above every bound (`+Inf` only). */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(readonly name: string, readonly help: string, private readonly bounds: readonly number[], registry: Registry) {
    this.counts = new Float64Array(bounds.length + 1);
    // The registry only reads name, help, type, aggregator and get() (and reset() on resetMetrics()).
    registry.registerMetric(this as unknown as Metric);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && value > (bounds[index] as number)) index += 1;
    this.counts[index] = (this.counts[index] as number) + 1;
    this.sum += value;
    this.count += 1;
  }

  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const bucket = `${this.name}_bucket`;
    const values: Sample[] = [];
    let cumulative = 0;
    this.bounds.forEach((le, index) => {
      cumulative += this.counts[index] as number;
      values.push({ labels: { le }, value: cumulative, metricName: bucket });
    });
    values.push(
      { labels: { le: '+Inf' }, value: this.count, metricName: bucket },
      { labels: {}, value: this.sum, metricName: `${this.name}_sum` },
      { labels: {}, value: this.count, metricName: `${this.name}_count` },
    );
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

import { describe, expect, it } from '@jest/globals';
import Histogram from 'prom-client/lib/histogram.js';
import Registry from 'prom-client/lib/registry.js';
import { BucketHistogram } from '../../sidecar/bucket-histogram.js';

const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.5, 1, 30];
/** On a bound, between bounds, below the first, above the last, zero. */
const VALUES = [0.001, 0.0007, 0.003, 0.003, 0.01, 0.75, 1, 29.9, 31, 1e9, 0];

function both(): { ours: BucketHistogram; theirs: InstanceType<typeof Histogram>; ourRegistry: InstanceType<typeof Registry>; theirRegistry: InstanceType<typeof Registry> } {
  const ourRegistry = new Registry();
  const theirRegistry = new Registry();
  const ours = new BucketHistogram('x_seconds', 'Some time.', BOUNDS, ourRegistry);
  const theirs = new Histogram({ name: 'x_seconds', help: 'Some time.', buckets: BOUNDS, registers: [theirRegistry] });
  return { ours, theirs, ourRegistry, theirRegistry };
}

describe('BucketHistogram', () => {
  it('scrapes exactly as prom-client\'s own Histogram with the same observations', async () => {
    const { ours, theirs, ourRegistry, theirRegistry } = both();
    expect(await ourRegistry.metrics()).toBe(await theirRegistry.metrics()); // before any observation
    for (const value of VALUES) {
      ours.observe(value);
      theirs.observe(value);
    }
    const text = await ourRegistry.metrics();
    expect(text).toBe(await theirRegistry.metrics());
    expect(text).toContain('x_seconds_bucket{le="0.0025"} 3');
    expect(text).toContain('x_seconds_count 11');
    const json = (registry: InstanceType<typeof Registry>) => registry.getMetricsAsJSON().then((metrics) => metrics.map(({ name, help, type, aggregator, values }) => ({ name, help, type, aggregator, values: values.map((sample) => ({ labels: sample.labels, value: sample.value, metricName: (sample as { metricName?: string }).metricName })) })));
    expect(await json(ourRegistry)).toEqual(await json(theirRegistry));
  });

  it('starts again from zero when the registry resets its metrics', async () => {
    const { ours, theirs, ourRegistry, theirRegistry } = both();
    ours.observe(0.002);
    theirs.observe(0.002);
    ourRegistry.resetMetrics();
    theirRegistry.resetMetrics();
    theirs.zero({});
    expect(await ourRegistry.metrics()).toBe(await theirRegistry.metrics());
  });
});

/**
 * Prometheus text from /metrics reduced to what the fleet bench reads: counter sums and histogram
 * quantiles over the difference of two scrapes (the buckets a window added, not the process's life).
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function samples(text: string, name: string): Sample[] {
  const found: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = SAMPLE_LINE.exec(line);
    if (match === null || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) labels[label[1] as string] = label[2] as string;
    found.push({ name, labels, value: Number(match[3]) });
  }
  return found;
}

const matches = (sample: Sample, filter: Record<string, string>): boolean =>
  Object.entries(filter).every(([key, value]) => sample.labels[key] === value);

export function sum(text: string, name: string, filter: Record<string, string> = {}): number {
  return samples(text, name).filter((sample) => matches(sample, filter)).reduce((total, sample) => total + sample.value, 0);
}

/** Cumulative bucket counts by upper bound, summed over the series that match `filter`. */
export function buckets(text: string, histogram: string, filter: Record<string, string> = {}): Map<number, number> {
  const counts = new Map<number, number>();
  for (const sample of samples(text, `${histogram}_bucket`).filter((candidate) => matches(candidate, filter))) {
    const bound = sample.labels['le'] === '+Inf' ? Infinity : Number(sample.labels['le']);
    counts.set(bound, (counts.get(bound) ?? 0) + sample.value);
  }
  return counts;
}

export function bucketDelta(before: Map<number, number>, after: Map<number, number>): Map<number, number> {
  return new Map([...after].map(([bound, count]) => [bound, count - (before.get(bound) ?? 0)]));
}

/**
 * The quantile as Prometheus' histogram_quantile computes it: linear within the bucket it falls
 * in. Undefined when the window has no observations.
 */
export function histogramQuantile(quantile: number, cumulative: Map<number, number>): number | undefined {
  const bounds = [...cumulative.keys()].sort((a, b) => a - b);
  const total = cumulative.get(Infinity) ?? 0;
  if (total <= 0) return undefined;
  const rank = quantile * total;
  let lower = 0;
  let below = 0;
  for (const bound of bounds) {
    const count = cumulative.get(bound) ?? 0;
    if (count >= rank) {
      if (bound === Infinity) return lower;
      return lower + (bound - lower) * ((rank - below) / Math.max(count - below, 1e-9));
    }
    lower = bound;
    below = count;
  }
  return lower;
}

/** Go-style durations ("250ms", "1s", "1m30s"), the only duration format the product accepts. */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** JSON Schema pattern for a Go duration; "0" alone is allowed as in Go. */
export const DURATION_PATTERN = '^(0|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$';

const WHOLE = new RegExp(DURATION_PATTERN);
const PART = /([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)/g;

export function isDuration(text: string): boolean {
  return WHOLE.test(text);
}

/** Parses a Go duration into milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  if (!isDuration(text)) throw new Error(`${JSON.stringify(text)} is not a duration (e.g. 250ms, 1s, 2m)`);
  if (text === '0') return 0;
  let ms = 0;
  for (const match of text.matchAll(PART)) {
    ms += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  return ms;
}

/** Formats milliseconds back into the shortest Go-style duration. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

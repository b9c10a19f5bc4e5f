import { describe, expect, it } from '@jest/globals';
import { formatDuration, isDuration, parseDuration } from '../../api/duration.js';

describe('parseDuration', () => {
  it.each([
    ['0', 0], ['250ms', 250], ['1s', 1000], ['1.5s', 1500], ['2m', 120_000], ['1h', 3_600_000],
    ['1m30s', 90_000], ['500us', 0.5], ['1000ns', 0.001],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', 'banana', '1', '-1s', '1 s', 's', '1d', '1.s'])('rejects %j', (text) => {
    expect(isDuration(text)).toBe(false);
    expect(() => parseDuration(text)).toThrow(/is not a duration/);
  });

  it('formats back to the shortest form', () => {
    expect([0, 250, 1000, 90_000, 120_000, 3_600_000].map(formatDuration)).toEqual(['0s', '250ms', '1s', '90s', '2m', '1h']);
  });
});

import { describe, expect, it } from '@jest/globals';
import { backoffDelay, createWorkQueue } from '../../../operator/controller/work-queue.js';
import { eventually } from '../../support/cli.js';

describe('work queue', () => {
  it('deduplicates waiting keys and re-runs a key changed while it was processing, never concurrently', async () => {
    const runs: string[] = [];
    let active = 0;
    let maxActivePerKey = 0;
    let release: (() => void) | undefined;
    const queue = createWorkQueue({
      concurrency: 2,
      process: async (key) => {
        active += 1;
        maxActivePerKey = Math.max(maxActivePerKey, active);
        runs.push(key);
        if (runs.length === 1) await new Promise<void>((resolve) => { release = resolve; });
        active -= 1;
      },
    });
    queue.add('ns/a');
    await eventually(() => release !== undefined, 10_000, 'first run started');
    queue.add('ns/a');
    queue.add('ns/a');
    release!();
    await queue.idle();
    expect(runs).toEqual(['ns/a', 'ns/a']);
    expect(maxActivePerKey).toBe(1);
    queue.close();
  });

  it('respects max concurrency across keys', async () => {
    let active = 0;
    let peak = 0;
    const queue = createWorkQueue({
      concurrency: 2,
      process: async () => {
        active += 1;
        peak = Math.max(peak, active);
        await new Promise((resolve) => setTimeout(resolve, 20));
        active -= 1;
      },
    });
    for (const key of ['a', 'b', 'c', 'd', 'e']) queue.add(`ns/${key}`);
    expect(queue.depth()).toBe(3);
    await queue.idle();
    expect(peak).toBe(2);
    queue.close();
  });

  it('retries failures with growing backoff until they succeed', async () => {
    const attempts: number[] = [];
    let calls = 0;
    const queue = createWorkQueue({
      concurrency: 1,
      baseDelayMs: 5,
      random: () => 1,
      process: async () => {
        calls += 1;
        if (calls < 4) throw new Error('boom');
      },
      onError: (_key, _error, attempt) => attempts.push(attempt),
    });
    queue.add('ns/flaky');
    await eventually(() => calls === 4, 10_000, 'succeeded');
    await queue.idle();
    expect(attempts).toEqual([1, 2, 3]);
    queue.close();
  });

  it('backoff doubles, is capped, and jitters within [half, full]', () => {
    expect(backoffDelay(1, 100, 1000, () => 1)).toBe(100);
    expect(backoffDelay(3, 100, 1000, () => 1)).toBe(400);
    expect(backoffDelay(10, 100, 1000, () => 1)).toBe(1000);
    expect(backoffDelay(3, 100, 1000, () => 0)).toBe(200);
  });
});

/**
 * A short run of the soak (test/reliability/soak/): the built sidecar between hostile clients and a
 * misbehaving app survives with its fds and heap back at the baseline. BADGATEWAY_SOAK_SECONDS
 * sets the duration (default 20); `npm run soak -- --minutes 5` is the long run.
 */
import { describe, expect, it } from '@jest/globals';
import { runSoak, soakProblems } from './soak/soak.ts';

const SECONDS = Number(process.env.BADGATEWAY_SOAK_SECONDS ?? 20);

describe(`soak: hostile clients and a misbehaving app for ${SECONDS}s`, () => {
  it('ends with no crash, no fd growth and the heap back at its baseline after a forced GC', async () => {
    const result = await runSoak({ seconds: SECONDS, concurrency: 16 });
    console.log(`soak: ${JSON.stringify(result)}`);
    expect(soakProblems(result)).toEqual([]);
    expect(result.appRequests).toBeGreaterThan(0);
  }, (SECONDS + 120) * 1_000);
});

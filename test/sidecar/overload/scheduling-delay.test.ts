import { describe, expect, it } from '@jest/globals';
import { TimerLateness } from '../../../sidecar/overload/scheduling-delay.js';
import { eventually } from '../../support/cli.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const spin = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* busy */ }
};

describe('scheduling delay: timer lateness', () => {
  it('reads the event loop being held up, and stops by itself a second after the last request', async () => {
    let active = true;
    const meter = new TimerLateness(() => active);
    meter.start();
    try {
      // Held up 8 ms of every ~10 ms for a few windows: most 5 ms timers run late.
      for (const endAt = performance.now() + 400; performance.now() < endAt;) {
        spin(8);
        await sleep(1);
      }
      expect(meter.estimateMs()).toBeGreaterThan(1);
      active = false;
      await sleep(50);
      expect(meter.running).toBe(true); // idle for less than a second
      await eventually(() => !meter.running, 5_000, 'the meter stopped');
      expect(meter.estimateMs()).toBe(0);
    } finally {
      meter.stop();
    }
  });
});

import { DeadlineTimer, TIMER_NONE } from '../../../sidecar/http1/deadline-timer.js';

const FIRST = 1;
const SECOND = 2;

/** A timer and when (ms since creation) each kind fired. */
function recorder(): { timer: DeadlineTimer; fired: { kind: number; at: number }[]; started: number } {
  const started = performance.now();
  const fired: { kind: number; at: number }[] = [];
  const timer = new DeadlineTimer({ timerFired: (kind) => fired.push({ kind, at: performance.now() - started }) });
  return { timer, fired, started };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('DeadlineTimer', () => {
  it('fires the armed kind once its deadline passes, and is disarmed then', async () => {
    const { timer, fired } = recorder();
    timer.arm(FIRST, 30);
    await sleep(80);
    expect(fired.map((entry) => entry.kind)).toEqual([FIRST]);
    expect(fired[0]?.at).toBeGreaterThanOrEqual(30);
    expect(timer.kind).toBe(TIMER_NONE);
  });

  it('a later deadline armed over an earlier one waits for the later one (the Timeout reschedules)', async () => {
    const { timer, fired } = recorder();
    timer.arm(FIRST, 20);
    timer.arm(SECOND, 400);
    // Waiting for the first firing rather than sleeping a fixed time: a stalled event loop
    // (a loaded CI machine) may deliver it late, never early and never as FIRST.
    while (fired.length === 0) await sleep(20);
    await sleep(50);
    expect(fired.map((entry) => entry.kind)).toEqual([SECOND]);
    expect(fired[0]?.at).toBeGreaterThanOrEqual(400);
  });

  it('an earlier deadline armed over a later one fires on time', async () => {
    const { timer, fired } = recorder();
    timer.arm(FIRST, 5_000);
    timer.arm(SECOND, 20);
    await sleep(100);
    expect(fired.map((entry) => entry.kind)).toEqual([SECOND]);
    timer.cancel();
  });

  it('restart() moves the deadline by the armed duration; disarm() and cancel() mean it never fires', async () => {
    const { timer, fired, started } = recorder();
    timer.arm(FIRST, 1_000);
    await sleep(100);
    // A sleep may end a fraction of a millisecond early on performance.now()'s clock: the
    // deadline counts from the restart itself. Waiting for the firing, not a fixed time, keeps
    // a stalled event loop from failing the test: it can only make the firing later.
    const restartedAt = performance.now() - started;
    timer.restart();
    while (fired.length === 0) await sleep(20);
    expect(fired.map((entry) => entry.kind)).toEqual([FIRST]);
    expect(fired[0]?.at).toBeGreaterThanOrEqual(restartedAt + 1_000);

    timer.arm(SECOND, 20);
    timer.disarm();
    const other = recorder();
    other.timer.arm(SECOND, 20);
    other.timer.cancel();
    await sleep(60);
    expect(fired).toHaveLength(1);
    expect(other.fired).toEqual([]);
  });
});

import { afterEach, describe, expect, it } from '@jest/globals';
import { DEFAULT_GRADIENT_SETTINGS } from '../../../sidecar/overload/gradient.js';
import { ConcurrencyLimiter, type LimiterSettings, type Permit, type Waiter } from '../../../sidecar/overload/limiter.js';

const base: LimiterSettings = {
  mode: 'enforce',
  limit: 2,
  queueSize: 2,
  queueTimeoutMs: 10_000,
  // As long as the timeout: these tests are about the limit and a plain FIFO queue (controlled-delay.test.ts has the rest).
  queueTargetMs: 10_000,
  queueIntervalMs: 100,
  queueOrder: 'fifo',
  priorityPaths: ['/healthz', '/internal/'],
  gradient: DEFAULT_GRADIENT_SETTINGS,
};

const limiters: ConcurrencyLimiter[] = [];
afterEach(() => {
  for (const limiter of limiters.splice(0)) limiter.close();
});

function setup(overrides: Partial<LimiterSettings> = {}) {
  const events = { sheds: [] as string[], waits: [] as number[] };
  const limiter = new ConcurrencyLimiter({ ...base, ...overrides }, {
    shed: (mode) => events.sheds.push(mode),
    queueWait: (seconds) => events.waits.push(seconds),
  });
  limiters.push(limiter);
  return { limiter, events };
}

class RecordingWaiter implements Waiter {
  outcome: 'waiting' | 'granted' | 'shed' = 'waiting';
  permit: Permit | undefined;
  granted(permit: Permit): void {
    this.outcome = 'granted';
    this.permit = permit;
  }
  shed(): void {
    this.outcome = 'shed';
  }
}

function permit(admission: unknown): Permit {
  if (typeof admission !== 'object' || admission === null) throw new Error(`expected a permit, got ${String(admission)}`);
  return admission as Permit;
}

describe('limiter: enforce', () => {
  it('admits up to the limit, queues up to the queue size, sheds the rest', () => {
    const { limiter, events } = setup();
    expect(typeof limiter.acquire('/a')).toBe('object');
    expect(typeof limiter.acquire('/b')).toBe('object');
    expect(limiter.acquire('/c')).toBe('wait');
    limiter.enqueue(new RecordingWaiter());
    expect(limiter.acquire('/d')).toBe('wait');
    limiter.enqueue(new RecordingWaiter());
    expect(limiter.acquire('/e')).toBe('shed');
    expect(limiter.state()).toMatchObject({ mode: 'enforce', limit: 2, inFlight: 2, queued: 2, shed: { enforce: 1, shadow: 0 } });
    expect(events.sheds).toEqual(['enforce']);
  });

  it('hands a released slot to the oldest waiter, once per release', () => {
    const { limiter, events } = setup();
    const first = permit(limiter.acquire('/'));
    permit(limiter.acquire('/'));
    const waiters = [new RecordingWaiter(), new RecordingWaiter()];
    for (const waiter of waiters) {
      expect(limiter.acquire('/')).toBe('wait');
      limiter.enqueue(waiter);
    }
    first.release();
    first.release();
    expect(waiters.map((waiter) => waiter.outcome)).toEqual(['granted', 'waiting']);
    expect(limiter.state()).toMatchObject({ inFlight: 2, queued: 1 });
    expect(events.waits).toHaveLength(1);
  });

  it('sheds a waiter whose wait ran out, and records how long it waited', async () => {
    const { limiter, events } = setup({ queueTimeoutMs: 30 });
    permit(limiter.acquire('/'));
    permit(limiter.acquire('/'));
    const waiter = new RecordingWaiter();
    expect(limiter.acquire('/')).toBe('wait');
    limiter.enqueue(waiter);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(waiter.outcome).toBe('waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(waiter.outcome).toBe('shed');
    expect(events.sheds).toEqual(['enforce']);
    expect(events.waits[0]).toBeGreaterThanOrEqual(0.029);
    expect(limiter.state().queued).toBe(0);
  });

  it('sheds at once with a queue of size 0', () => {
    const { limiter } = setup({ queueSize: 0 });
    permit(limiter.acquire('/'));
    permit(limiter.acquire('/'));
    expect(limiter.acquire('/')).toBe('shed');
  });

  it('lets priority paths bypass the limit and the count (exact paths, prefixes, query ignored)', () => {
    const { limiter } = setup({ queueSize: 0 });
    permit(limiter.acquire('/'));
    permit(limiter.acquire('/'));
    for (const path of ['/healthz', '/healthz?verbose=1', '/internal/metrics']) expect(typeof limiter.acquire(path)).toBe('object');
    expect(limiter.acquire('/healthzz')).toBe('shed');
    expect(limiter.acquire('/internal')).toBe('shed');
    expect(limiter.state().inFlight).toBe(2);
  });
});

describe('limiter: shadow and off', () => {
  it('shadow sheds nothing and counts what enforce would have shed (beyond limit + queue)', () => {
    const { limiter, events } = setup({ mode: 'shadow' });
    for (let index = 0; index < 6; index += 1) expect(typeof limiter.acquire('/')).toBe('object');
    expect(limiter.state()).toMatchObject({ inFlight: 6, queued: 0, shed: { enforce: 0, shadow: 2 } });
    expect(events.sheds).toEqual(['shadow', 'shadow']);
  });

  it('off counts nothing', () => {
    const { limiter, events } = setup({ mode: 'off' });
    for (let index = 0; index < 10; index += 1) permit(limiter.acquire('/')).release();
    expect(limiter.state()).toMatchObject({ mode: 'off', limit: 0, inFlight: 0, queued: 0 });
    expect(events.sheds).toEqual([]);
  });
});

describe('limiter: reconfiguration keeps what is in flight and queued', () => {
  function full(limiter: ConcurrencyLimiter): { permits: Permit[]; waiters: RecordingWaiter[] } {
    const permits = [permit(limiter.acquire('/')), permit(limiter.acquire('/'))];
    const waiters = [new RecordingWaiter(), new RecordingWaiter()];
    for (const waiter of waiters) {
      limiter.acquire('/');
      limiter.enqueue(waiter);
    }
    return { permits, waiters };
  }

  it('a higher limit grants waiters at once', () => {
    const { limiter } = setup();
    const { waiters } = full(limiter);
    limiter.configure({ ...base, limit: 3 });
    expect(waiters.map((waiter) => waiter.outcome)).toEqual(['granted', 'waiting']);
    expect(limiter.state()).toMatchObject({ limit: 3, inFlight: 3, queued: 1 });
  });

  it('a smaller queue sheds the newest waiters; leaving enforce grants them all', () => {
    const { limiter } = setup();
    const { waiters } = full(limiter);
    limiter.configure({ ...base, queueSize: 1 });
    expect(waiters.map((waiter) => waiter.outcome)).toEqual(['waiting', 'shed']);
    limiter.configure({ ...base, mode: 'shadow' });
    expect(waiters.map((waiter) => waiter.outcome)).toEqual(['granted', 'shed']);
    expect(limiter.state()).toMatchObject({ inFlight: 3, queued: 0 });
  });

  it('a lower limit takes effect as requests finish, without cutting any', () => {
    const { limiter } = setup({ queueSize: 0 });
    const permits = [permit(limiter.acquire('/')), permit(limiter.acquire('/'))];
    limiter.configure({ ...base, queueSize: 0, limit: 1 });
    expect(limiter.state()).toMatchObject({ limit: 1, inFlight: 2 });
    expect(limiter.acquire('/')).toBe('shed');
    permits[0]!.release();
    expect(limiter.acquire('/')).toBe('shed');
    permits[1]!.release();
    expect(typeof limiter.acquire('/')).toBe('object');
  });

  it('close sheds whatever still waits', () => {
    const { limiter } = setup();
    const { waiters } = full(limiter);
    limiter.close();
    expect(waiters.map((waiter) => waiter.outcome)).toEqual(['shed', 'shed']);
  });
});

describe('limiter: adaptive', () => {
  it('starts pinned to minLimit while it measures minRTT, and reports the controller', () => {
    const { limiter } = setup({ limit: 'adaptive', queueSize: 0 });
    expect(limiter.state()).toMatchObject({ limit: 3, adaptive: { phase: 'measuring-min-rtt' } });
    for (let index = 0; index < 3; index += 1) permit(limiter.acquire('/'));
    expect(limiter.acquire('/')).toBe('shed');
  });
});

describe('limiter: the clock per request', () => {
  /** A simulated clock that counts its readings. */
  function counting() {
    const clock = { readings: 0, ms: 0, now: () => { clock.readings += 1; return clock.ms; } };
    const events = { shed: () => undefined, queueWait: () => undefined };
    return { clock, make: (settings: Partial<LimiterSettings>) => {
      const limiter = new ConcurrencyLimiter({ ...base, ...settings }, events, { clock: clock.now, schedulingDelay: { estimateMs: () => 0, start: () => undefined, stop: () => undefined } });
      limiters.push(limiter);
      return limiter;
    } };
  }

  it('reads no clock for a request when it takes no round-trip samples (mode off, or a fixed limit)', () => {
    for (const settings of [{ mode: 'off' as const, limit: 'adaptive' as const }, { mode: 'enforce' as const, limit: 5, queueSize: 0 }]) {
      const { clock, make } = counting();
      const limiter = make(settings);
      const granted = permit(limiter.acquire('/a'));
      const before = clock.readings; // enforce's acquire() reads it once, for the queue's delay meter
      granted.sending();
      granted.responded();
      granted.release();
      expect(clock.readings - before).toBe(0);
      expect(limiter.state().inFlight).toBe(0);
    }
  });

  it('reads the clock at sending() and at responded() when the limit is adaptive', () => {
    const { clock, make } = counting();
    const limiter = make({ limit: 'adaptive', queueSize: 0 });
    const granted = permit(limiter.acquire('/a'));
    let before = clock.readings;
    granted.sending();
    expect(clock.readings - before).toBe(1);
    before = clock.readings;
    granted.responded();
    expect(clock.readings - before).toBeGreaterThanOrEqual(1);
    granted.release();
  });
});

describe('limiter: its own scheduling delay', () => {
  /** An adaptive limiter on a simulated clock whose own scheduling delay is estimated at `delayMs`. */
  function busy(delayMs: number) {
    const clock = { ms: 0, now: () => clock.ms };
    const limiter = new ConcurrencyLimiter({ ...base, limit: 'adaptive', queueSize: 0 }, { shed: () => undefined, queueWait: () => undefined }, {
      clock: clock.now, schedulingDelay: { estimateMs: () => delayMs, start: () => undefined, stop: () => undefined },
    });
    limiters.push(limiter);
    /** One request at a time, answered `rttMs` after it was sent, as the sidecar reads it. */
    const roundTrip = (rttMs: number): void => {
      const granted = permit(limiter.acquire('/a'));
      granted.sending();
      clock.ms += rttMs;
      granted.responded();
      granted.release();
    };
    return { limiter, roundTrip };
  }

  it('takes the first minRTT as the round trips read, never as 0, when its own delay is estimated above them', () => {
    const { limiter, roundTrip } = busy(20);
    for (let index = 0; index < DEFAULT_GRADIENT_SETTINGS.minRttSamples; index += 1) roundTrip(6);
    expect(limiter.state().adaptive).toMatchObject({ phase: 'steady', minRttMs: 6 });
  });

  it('then leaves its own delay out of each sample, down to minRTT: a round trip late by that delay does not lower the limit', () => {
    const { limiter, roundTrip } = busy(20);
    for (let index = 0; index < DEFAULT_GRADIENT_SETTINGS.minRttSamples; index += 1) roundTrip(6);
    const limitBefore = limiter.state().limit;
    for (let index = 0; index < 40; index += 1) roundTrip(26);
    expect(limiter.state().adaptive?.sampleRttMs).toBe(6);
    expect(limiter.state().limit).toBeGreaterThanOrEqual(limitBefore);
  });
});

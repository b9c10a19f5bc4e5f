import { describe, expect, it } from '@jest/globals';
import { ControlledDelay } from '../../../sidecar/overload/controlled-delay.js';
import { WaitQueue, type QueuedWaiter, type Taken } from '../../../sidecar/overload/wait-queue.js';

class Named implements QueuedWaiter<string> {
  constructor(readonly name: string) {}
  granted(): void {}
  shed(): void {}
}

/** A queue on a simulated clock; expiry is driven by calling expire(), as the limiter does on each arrival. */
function setup() {
  const clock = { now: 0 };
  const delay = new ControlledDelay({ targetMs: 5, intervalMs: 100, timeoutMs: 250, order: 'adaptive-lifo' });
  const expired: string[] = [];
  const queue = new WaitQueue<string>(delay, ({ waiter, waitedMs }: Taken<string>) => expired.push(`${(waiter as Named).name}@${waitedMs}`), () => clock.now);
  const arrive = (name: string) => {
    delay.arrivedToFull(clock.now);
    queue.expire();
    queue.push(new Named(name));
  };
  return { clock, queue, expired, arrive };
}

describe('wait queue (simulated time)', () => {
  it('before the queue stands: the long timeout, oldest first', () => {
    const { clock, queue, expired, arrive } = setup();
    arrive('a');
    clock.now = 10;
    arrive('b');
    clock.now = 50;
    queue.expire();
    expect(expired).toEqual([]);
    expect((queue.take(false)?.waiter as Named).name).toBe('a');
    queue.clear(() => undefined);
  });

  it('once it stands: waiters past the target are shed, the newest is kept for the next slot', () => {
    const { clock, queue, expired, arrive } = setup();
    arrive('a');
    clock.now = 120; // standing since 100
    queue.expire();
    expect(expired).toEqual([]); // alone: held to the long timeout only
    arrive('b');
    expect(expired).toEqual(['a@120']);
    clock.now = 200;
    queue.expire();
    expect(queue.length).toBe(1);
    clock.now = 370; // b has waited 250 ms: the long timeout holds for the last one too
    queue.expire();
    expect(expired).toEqual(['a@120', 'b@250']);
    expect(queue.length).toBe(0);
  });

  it('serves the newest or the oldest, as asked', () => {
    const { queue, arrive } = setup();
    for (const name of ['a', 'b', 'c']) arrive(name);
    expect((queue.take(true)?.waiter as Named).name).toBe('c');
    expect((queue.take(false)?.waiter as Named).name).toBe('a');
    expect((queue.take(true)?.waiter as Named).name).toBe('b');
    expect(queue.take(true)).toBeUndefined();
  });
});

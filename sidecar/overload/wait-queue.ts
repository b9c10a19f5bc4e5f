/**
 * The limiter's bounded FIFO of waiting requests with a maximum wait. Waits are all equally long,
 * so the oldest entry always expires first: one unref'd timer, armed for the head, does for all.
 */

/** A queued request; told exactly once. */
export interface QueuedWaiter<T> {
  granted(permit: T): void;
  shed(): void;
}

interface Entry<T> {
  readonly waiter: QueuedWaiter<T>;
  readonly enqueuedAt: number;
}

/** Compact the backing array once this many entries have left its front. */
const COMPACT_AFTER = 1024;

export class WaitQueue<T> {
  private entries: Entry<T>[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;
  private timeoutMs = 0;

  constructor(private readonly onExpired: (waiter: QueuedWaiter<T>, waitedMs: number) => void) {}

  get length(): number {
    return this.entries.length - this.head;
  }

  setTimeout(timeoutMs: number): void {
    this.timeoutMs = timeoutMs;
    this.disarm();
    this.expire();
  }

  push(waiter: QueuedWaiter<T>): void {
    this.entries.push({ waiter, enqueuedAt: performance.now() });
    if (this.timer === undefined) this.arm();
  }

  /** The oldest waiter and how long it waited, or undefined when empty. */
  shift(): { waiter: QueuedWaiter<T>; waitedMs: number } | undefined {
    const entry = this.take();
    return entry === undefined ? undefined : { waiter: entry.waiter, waitedMs: performance.now() - entry.enqueuedAt };
  }

  /** Takes `waiter` out without telling it (its request ended while it waited); false if absent. */
  remove(waiter: QueuedWaiter<T>): boolean {
    for (let index = this.head; index < this.entries.length; index += 1) {
      if ((this.entries[index] as Entry<T>).waiter !== waiter) continue;
      this.entries.splice(index, 1);
      if (this.length === 0) this.reset();
      return true;
    }
    return false;
  }

  /** Grants every waiter, oldest first (the queue is being switched off). */
  grantAll(permit: () => T): void {
    for (let entry = this.take(); entry !== undefined; entry = this.take()) entry.waiter.granted(permit());
  }

  /** Drops the newest waiters beyond `size`. */
  shrinkTo(size: number, dropped: (waiter: QueuedWaiter<T>) => void): void {
    while (this.length > size) dropped((this.entries.pop() as Entry<T>).waiter);
    if (this.length === 0) this.reset();
  }

  clear(dropped: (waiter: QueuedWaiter<T>) => void): void {
    this.shrinkTo(0, dropped);
  }

  private take(): Entry<T> | undefined {
    if (this.length === 0) return undefined;
    const entry = this.entries[this.head] as Entry<T>;
    this.head += 1;
    if (this.length === 0) this.reset();
    else if (this.head >= COMPACT_AFTER) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return entry;
  }

  private reset(): void {
    this.entries = [];
    this.head = 0;
    this.disarm();
  }

  private arm(): void {
    const oldest = this.entries[this.head];
    if (oldest === undefined) return;
    const delay = Math.max(0, oldest.enqueuedAt + this.timeoutMs - performance.now());
    this.timer = setTimeout(this.onTimer, Math.ceil(delay));
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.expire();
  };

  private expire(): void {
    const now = performance.now();
    for (let oldest = this.entries[this.head]; oldest !== undefined && now - oldest.enqueuedAt >= this.timeoutMs; oldest = this.entries[this.head]) {
      this.take();
      this.onExpired(oldest.waiter, now - oldest.enqueuedAt);
    }
    if (this.length > 0 && this.timer === undefined) this.arm();
  }
}

/**
 * The limiter's bounded queue of waiting requests. Entries are kept in arrival order; a free slot
 * goes to the oldest or (adaptive LIFO) the newest, and expiry always takes the oldest, whose wait
 * is the longest. The longest allowed wait changes with time (controlled delay), so one unref'd
 * timer is armed for whichever comes first: the oldest entry's expiry or the queue starting to stand.
 * The last waiter is held to the long wait only, as CoDel never drops its last packet: a slot that
 * frees a little late (the sidecar's own delay) still finds someone to serve instead of idling.
 */

/** A queued request; told exactly once. */
export interface QueuedWaiter<T> {
  granted(permit: T): void;
  shed(): void;
}

/** How long a waiter may wait, as time goes on (sidecar/overload/controlled-delay.ts). */
export interface WaitPolicy {
  maxWaitMs(now: number): number;
  /** The long wait: what the last waiter in the queue may always wait. */
  longestWaitMs(): number;
  /** When maxWaitMs will change by itself, if it will. */
  standsAt(): number | undefined;
}

interface Entry<T> {
  readonly waiter: QueuedWaiter<T>;
  readonly enqueuedAt: number;
}

/** A waiter taken out of the queue, and how long it waited. */
export interface Taken<T> {
  readonly waiter: QueuedWaiter<T>;
  readonly waitedMs: number;
}

/** Compact the backing array once this many entries have left its front. */
const COMPACT_AFTER = 1024;

export class WaitQueue<T> {
  private entries: Entry<T>[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly policy: WaitPolicy,
    private readonly onExpired: (taken: Taken<T>) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get length(): number {
    return this.entries.length - this.head;
  }

  push(waiter: QueuedWaiter<T>): void {
    this.entries.push({ waiter, enqueuedAt: this.now() });
    // A second waiter ends the first one's exemption from the target.
    if (this.length === 2) this.expire(true);
    else if (this.timer === undefined) this.arm();
  }

  /** The oldest (or newest) waiter, or undefined when empty. */
  take(newest: boolean): Taken<T> | undefined {
    const entry = newest ? this.takeNewest() : this.takeOldest();
    return entry === undefined ? undefined : { waiter: entry.waiter, waitedMs: this.now() - entry.enqueuedAt };
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
    for (let entry = this.takeOldest(); entry !== undefined; entry = this.takeOldest()) entry.waiter.granted(permit());
  }

  /** Drops the newest waiters beyond `size`. */
  shrinkTo(size: number, dropped: (waiter: QueuedWaiter<T>) => void): void {
    while (this.length > size) dropped((this.takeNewest() as Entry<T>).waiter);
  }

  clear(dropped: (waiter: QueuedWaiter<T>) => void): void {
    this.shrinkTo(0, dropped);
  }

  /**
   * Sheds every waiter that has waited as long as the policy allows now. The timer is re-armed when
   * something expired, or on `rearm` (the policy's settings changed).
   */
  expire(rearm = false): void {
    const now = this.now();
    let expired = false;
    for (let oldest = this.entries[this.head]; oldest !== undefined && now - oldest.enqueuedAt >= this.allowedWaitMs(now); oldest = this.entries[this.head]) {
      expired = true;
      this.takeOldest();
      this.onExpired({ waiter: oldest.waiter, waitedMs: now - oldest.enqueuedAt });
    }
    if (!expired && !rearm && this.timer !== undefined) return;
    this.disarm();
    if (this.length > 0) this.arm();
  }

  private takeOldest(): Entry<T> | undefined {
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

  private takeNewest(): Entry<T> | undefined {
    if (this.length === 0) return undefined;
    const entry = this.entries.pop() as Entry<T>;
    if (this.length === 0) this.reset();
    return entry;
  }

  private reset(): void {
    this.entries = [];
    this.head = 0;
    this.disarm();
  }

  /** For the oldest entry. */
  private allowedWaitMs(now: number): number {
    return this.length > 1 ? this.policy.maxWaitMs(now) : this.policy.longestWaitMs();
  }

  private arm(): void {
    const oldest = this.entries[this.head];
    if (oldest === undefined) return;
    const now = this.now();
    let due = oldest.enqueuedAt + this.allowedWaitMs(now);
    const standsAt = this.policy.standsAt();
    if (standsAt !== undefined && standsAt < due) due = standsAt;
    this.timer = setTimeout(this.onTimer, Math.ceil(Math.max(0, due - now)));
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
}

/**
 * When the queue "stands", after Facebook's "Fail at Scale" (ACM Queue, 2015) and CoDel (RFC 8289):
 * a queue that absorbs a burst drains again; one that stands only adds latency. While it stands a
 * request may wait at most `targetMs` (else up to the long `timeoutMs`), and with adaptive LIFO the
 * newest waiter is served first, since the oldest are the likeliest to have been given up on.
 *
 * The paper's signal is "the queue was not empty at any time in the last interval". Here a short
 * target empties the queue by shedding, which says nothing about demand; so the queue stands once
 * arriving requests have found the app full for a whole `intervalMs`, and stops standing once they
 * have found a free slot and an empty queue for a whole `intervalMs`: the demand fell below what
 * the app serves. (A single free slot is often just the gap the target's own sheds left.)
 *
 * Pure: no timers, no clock of its own; every call carries `now` (ms), so tests run in simulated time.
 */

export type QueueOrder = 'adaptive-lifo' | 'fifo';

export interface ControlledDelaySettings {
  /** Longest wait while the queue stands. */
  readonly targetMs: number;
  /** Arrivals must find the app full this long before the queue stands. */
  readonly intervalMs: number;
  /** Longest wait otherwise. */
  readonly timeoutMs: number;
  readonly order: QueueOrder;
}

export class ControlledDelay {
  /** Since when every arriving request has had to wait; undefined while arrivals find room. */
  private fullSince: number | undefined;
  private standingSince: number | undefined;
  /** While standing: since when every arriving request has found room. */
  private roomSince: number | undefined;
  private standingMsBefore = 0;
  private lifoSwitchCount = 0;

  constructor(private settings: ControlledDelaySettings) {}

  configure(settings: ControlledDelaySettings): void {
    this.settings = settings;
  }

  /** A request arrived and had to wait (the app was at its limit). */
  arrivedToFull(now: number): void {
    if (this.fullSince === undefined) this.fullSince = now;
    this.roomSince = undefined;
    this.update(now);
  }

  /** A request arrived to a free slot and an empty queue. */
  arrivedToRoom(now: number): void {
    this.update(now);
    if (this.standingSince === undefined) {
      this.fullSince = undefined;
      return;
    }
    // One free slot may be a gap the queue's own sheds left; room for a whole interval is demand that fell.
    if (this.roomSince === undefined) this.roomSince = now;
    if (now - this.roomSince < this.settings.intervalMs) return;
    this.standingMsBefore += this.roomSince - this.standingSince;
    this.standingSince = undefined;
    this.fullSince = undefined;
    this.roomSince = undefined;
  }

  standing(now: number): boolean {
    this.update(now);
    return this.standingSince !== undefined;
  }

  /** How long a request may wait now. */
  maxWaitMs(now: number): number {
    return this.standing(now) ? Math.min(this.settings.targetMs, this.settings.timeoutMs) : this.settings.timeoutMs;
  }

  longestWaitMs(): number {
    return this.settings.timeoutMs;
  }

  /** Whether the next free slot goes to the newest waiter. */
  servesNewest(now: number): boolean {
    return this.settings.order === 'adaptive-lifo' && this.standing(now);
  }

  /** When the queue will stand if nothing changes (the maximum wait shortens then); undefined if known already. */
  standsAt(): number | undefined {
    if (this.standingSince !== undefined || this.fullSince === undefined) return undefined;
    return this.fullSince + this.settings.intervalMs;
  }

  /** Total time the queue has stood, the current period included. */
  standingSeconds(now: number): number {
    this.update(now);
    return (this.standingMsBefore + (this.standingSince === undefined ? 0 : now - this.standingSince)) / 1000;
  }

  /** Times the queue began to stand with adaptive LIFO on: FIFO → LIFO switches. */
  lifoSwitches(): number {
    return this.lifoSwitchCount;
  }

  private update(now: number): void {
    if (this.standingSince !== undefined || this.fullSince === undefined) return;
    const standsAt = this.fullSince + this.settings.intervalMs;
    if (now < standsAt) return;
    this.standingSince = standsAt;
    if (this.settings.order === 'adaptive-lifo') this.lifoSwitchCount += 1;
  }
}

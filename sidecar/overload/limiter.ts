/**
 * Admission in front of the app: requests in flight against a limit (fixed, or the gradient
 * controller's), a bounded queue with a controlled delay and adaptive LIFO (controlled-delay.ts),
 * shadow mode (count would-be sheds, shed nothing) and priority paths that bypass it all. The data
 * path asks `acquire()` after the breaker and before touching the app, and settles the permit once.
 */
import { ControlledDelay, type QueueOrder } from './controlled-delay.js';
import { GradientController, type GradientSettings } from './gradient.js';
import { TimerLateness, type SchedulingDelaySource } from './scheduling-delay.js';
import { WaitQueue, type QueuedWaiter, type Taken } from './wait-queue.js';

export type OverloadMode = 'off' | 'shadow' | 'enforce';

export interface LimiterSettings {
  readonly mode: OverloadMode;
  /** A fixed limit, or 'adaptive' for the gradient controller. */
  readonly limit: number | 'adaptive';
  readonly queueSize: number;
  /** The long wait: while the queue does not stand. */
  readonly queueTimeoutMs: number;
  /** The short wait: while the queue stands. */
  readonly queueTargetMs: number;
  readonly queueIntervalMs: number;
  readonly queueOrder: QueueOrder;
  /** Exact request paths (query ignored); an entry ending in '/' matches the paths under it. */
  readonly priorityPaths: readonly string[];
  readonly gradient: GradientSettings;
}

/** What the limiter reports; the metrics registry reads the gauges when scraped. */
export interface LimiterEvents {
  shed(mode: 'enforce' | 'shadow', cause: ShedCause): void;
  queueWait(seconds: number): void;
}

/**
 * Why a request was shed: `limit` (the limit was reached and there is no queue), `queue-full`,
 * `queue-timeout` (it waited as long as the queue allows), `circuit-open` (granted a slot after
 * waiting, it found the circuit opened meanwhile).
 */
export const SHED_CAUSES = ['limit', 'queue-full', 'queue-timeout', 'circuit-open'] as const;
export type ShedCause = (typeof SHED_CAUSES)[number];

/** An admitted request's hold on a slot. */
export interface Permit {
  /** The request goes to the app now: its round trip starts here, not at the grant. */
  sending(): void;
  /** The app's response head arrived (or the response timed out): one RTT sample. */
  responded(): void;
  /** The exchange is over; frees the slot. Idempotent. */
  release(): void;
}

/** Told once, later, what became of a queued request. */
export type Waiter = QueuedWaiter<Permit>;

/** A permit to forward now, 'shed' (answer 503 at once), or 'wait' (hand a waiter to enqueue()). */
export type Admission = Permit | 'shed' | 'wait';

export interface LimiterState {
  readonly mode: OverloadMode;
  readonly limit: number;
  readonly inFlight: number;
  readonly queued: number;
  readonly shed: { readonly enforce: number; readonly shadow: number };
  readonly shedByCause: Readonly<Record<ShedCause, number>>;
  readonly queue: { readonly standing: boolean; readonly standingSeconds: number; readonly lifoSwitches: number };
  /** The sidecar's own scheduling delay taken out of latency samples, ms. */
  readonly schedulingDelayMs: number;
  readonly adaptive?: ReturnType<GradientController['snapshot']>;
}

/** The permit of a request the limiter does not count (mode off, priority paths, tunnels). */
export const NO_PERMIT: Permit = Object.freeze({ sending: () => undefined, responded: () => undefined, release: () => undefined });

/**
 * `timed`: the limiter samples round trips (an adaptive limit, mode not off). A permit that is not
 * timed reads no clock: in the default mode (off) a request costs the limiter a count and this object.
 */
class CountedPermit implements Permit {
  private startedAt = 0;
  private done = false;
  private sampled = false;

  constructor(private readonly limiter: ConcurrencyLimiter, private readonly inFlightAtStart: number, private readonly timed: boolean) {
    if (timed) this.startedAt = limiter.now();
  }

  sending(): void {
    if (this.timed) this.startedAt = this.limiter.now();
  }

  responded(): void {
    if (!this.timed || this.sampled || this.done) return;
    this.sampled = true;
    this.limiter.sample(this.startedAt, this.inFlightAtStart);
  }

  release(): void {
    if (this.done) return;
    this.done = true;
    this.limiter.releaseSlot();
  }
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export interface LimiterOptions {
  /** Milliseconds; performance.now() unless a test simulates time. */
  readonly clock?: () => number;
  readonly schedulingDelay?: SchedulingDelaySource;
}

function delaySettings(settings: LimiterSettings) {
  return { targetMs: settings.queueTargetMs, intervalMs: settings.queueIntervalMs, timeoutMs: settings.queueTimeoutMs, order: settings.queueOrder };
}

export class ConcurrencyLimiter {
  private settings: LimiterSettings;
  private controller: GradientController | undefined;
  private inFlight = 0;
  private readonly delay: ControlledDelay;
  private readonly queue: WaitQueue<Permit>;
  private readonly sheds = { enforce: 0, shadow: 0 };
  private readonly shedByCause: Record<ShedCause, number> = { limit: 0, 'queue-full': 0, 'queue-timeout': 0, 'circuit-open': 0 };
  private exactPriority: ReadonlySet<string> = new Set();
  private prefixPriority: readonly string[] = [];
  private pumping = false;
  readonly now: () => number;
  private readonly schedulingDelay: SchedulingDelaySource;

  constructor(settings: LimiterSettings, private readonly events: LimiterEvents, options: LimiterOptions = {}) {
    this.settings = settings;
    this.now = options.clock ?? (() => performance.now());
    this.schedulingDelay = options.schedulingDelay ?? new TimerLateness(() => this.inFlight > 0);
    this.delay = new ControlledDelay(delaySettings(settings));
    this.queue = new WaitQueue<Permit>(this.delay, (taken) => this.expire(taken), this.now);
    this.configure(settings);
  }

  /** Applies new settings in place: in-flight requests and the queue carry over. */
  configure(settings: LimiterSettings): void {
    const previous = this.settings;
    this.settings = settings;
    if (settings.limit !== 'adaptive') this.controller = undefined;
    else if (this.controller === undefined || JSON.stringify(previous.gradient) !== JSON.stringify(settings.gradient)) {
      this.controller = new GradientController(settings.gradient, this.now());
    }
    if (this.controller === undefined || settings.mode === 'off') this.schedulingDelay.stop();
    this.exactPriority = new Set(settings.priorityPaths.filter((path) => !path.endsWith('/')));
    this.prefixPriority = settings.priorityPaths.filter((path) => path.endsWith('/'));
    this.delay.configure(delaySettings(settings));
    this.queue.expire(true);
    if (settings.mode !== 'enforce') this.queue.grantAll(() => this.take());
    this.pump(); // a higher limit first: waiters it admits are not shed by a smaller queue
    this.queue.shrinkTo(settings.queueSize, (waiter) => this.shedQueued(waiter, 'queue-full'));
  }

  limit(): number {
    const { limit } = this.settings;
    return limit === 'adaptive' ? (this.controller as GradientController).limit() : limit;
  }

  acquire(url: string): Admission {
    const { mode } = this.settings;
    if (this.isPriority(url)) return NO_PERMIT;
    // Counted even while off, so a switch to enforce knows what is already at the app.
    if (mode === 'off') return this.take();
    if (this.queue.length > 0) this.queue.expire(); // not only when its timer runs: a busy loop runs it late
    if (this.inFlight < this.limit() && this.queue.length === 0) {
      this.delay.arrivedToRoom(this.now());
      return this.take();
    }
    const fullCause: ShedCause = this.settings.queueSize === 0 ? 'limit' : 'queue-full';
    if (mode === 'shadow') {
      if (this.inFlight >= this.limit() + this.settings.queueSize) this.countShed('shadow', fullCause);
      return this.take();
    }
    if (this.settings.queueSize > 0) this.delay.arrivedToFull(this.now()); // no queue, nothing to stand
    if (this.queue.length < this.settings.queueSize) return 'wait';
    this.countShed('enforce', fullCause);
    return 'shed';
  }

  /** Right after acquire() said 'wait': the waiter is granted a permit or shed later. */
  enqueue(waiter: Waiter): void {
    this.queue.push(waiter);
  }

  /** A queued request whose client left: out of the queue, neither granted nor counted as shed. */
  cancel(waiter: Waiter): void {
    this.queue.remove(waiter);
  }

  /** A granted request that could not go to the app after all (the circuit opened while it waited). */
  shedGranted(permit: Permit): void {
    permit.release();
    this.countShed('enforce', 'circuit-open');
  }

  state(): LimiterState {
    const now = this.now();
    return {
      mode: this.settings.mode,
      limit: this.settings.mode === 'off' ? 0 : this.limit(),
      inFlight: this.inFlight,
      queued: this.queue.length,
      shed: { ...this.sheds },
      shedByCause: { ...this.shedByCause },
      queue: { standing: this.delay.standing(now), standingSeconds: this.delay.standingSeconds(now), lifoSwitches: this.delay.lifoSwitches() },
      schedulingDelayMs: this.schedulingDelay.estimateMs(),
      ...(this.controller === undefined ? {} : { adaptive: this.controller.snapshot() }),
    };
  }

  /** Sheds everything still queued and stops the queue's and the delay meter's timers. */
  close(): void {
    this.schedulingDelay.stop();
    this.queue.clear((waiter) => this.shedQueued(waiter, 'queue-full'));
  }

  /** @internal — from a permit. */
  sample(startedAt: number, inFlightAtStart: number): void {
    if (this.controller === undefined || this.settings.mode === 'off') return;
    const before = this.controller.limit();
    const now = this.now();
    const minRtt = this.controller.snapshot().minRttMs;
    // The sidecar's own delay in reading the answer is not the app's latency; an estimate, so never
    // taken below the app's unloaded latency (an over-estimate must not read as an idle app). Before
    // the first minRTT there is no such floor: a sidecar busy while it measures would take the app
    // for instant (minRTT 0, and every later sample for overload, the limit at minLimit until the
    // next measurement), so those samples are taken as read: minRTT may come out high, never low.
    const rtt = now - startedAt;
    const answeredAt = minRtt === undefined ? now : startedAt + Math.max(Math.min(rtt, minRtt), rtt - this.schedulingDelay.estimateMs());
    this.controller.sample(startedAt, answeredAt, inFlightAtStart);
    if (this.controller.limit() > before) this.pump();
  }

  /** @internal — from a permit. */
  releaseSlot(): void {
    this.inFlight -= 1;
    this.pump();
  }

  private take(): Permit {
    const timed = this.controller !== undefined && this.settings.mode !== 'off';
    if (timed) this.schedulingDelay.start();
    this.inFlight += 1;
    return new CountedPermit(this, this.inFlight, timed);
  }

  private pump(): void {
    if (this.pumping) return; // a grant that releases at once re-enters here; the loop below continues
    this.pumping = true;
    try {
      if (this.queue.length > 0) this.queue.expire();
      while (this.queue.length > 0 && this.inFlight < this.limit()) {
        const { waiter, waitedMs } = this.queue.take(this.delay.servesNewest(this.now())) as Taken<Permit>;
        this.events.queueWait(waitedMs / 1000);
        waiter.granted(this.take());
      }
    } finally {
      this.pumping = false;
    }
  }

  private expire({ waiter, waitedMs }: Taken<Permit>): void {
    this.events.queueWait(waitedMs / 1000);
    this.shedQueued(waiter, 'queue-timeout');
  }

  private shedQueued(waiter: Waiter, cause: ShedCause): void {
    this.countShed('enforce', cause);
    waiter.shed();
  }

  private countShed(mode: 'enforce' | 'shadow', cause: ShedCause): void {
    this.sheds[mode] += 1;
    this.shedByCause[cause] += 1;
    this.events.shed(mode, cause);
  }

  private isPriority(url: string): boolean {
    if (this.exactPriority.size === 0 && this.prefixPriority.length === 0) return false;
    const path = pathOf(url);
    if (this.exactPriority.has(path)) return true;
    for (const prefix of this.prefixPriority) if (path.startsWith(prefix)) return true;
    return false;
  }
}

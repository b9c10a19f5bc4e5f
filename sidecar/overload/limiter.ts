/**
 * Admission in front of the app: requests in flight against a limit (fixed, or the gradient
 * controller's), a bounded FIFO queue with a maximum wait, shadow mode (count would-be sheds, shed
 * nothing) and priority paths that bypass it all. The data path asks `acquire()` after the
 * breaker and before touching the app, and settles the returned permit once.
 */
import { GradientController, type GradientSettings } from './gradient.js';
import { WaitQueue, type QueuedWaiter } from './wait-queue.js';

export type OverloadMode = 'off' | 'shadow' | 'enforce';

export interface LimiterSettings {
  readonly mode: OverloadMode;
  /** A fixed limit, or 'adaptive' for the gradient controller. */
  readonly limit: number | 'adaptive';
  readonly queueSize: number;
  readonly queueTimeoutMs: number;
  /** Exact request paths (query ignored); an entry ending in '/' matches the paths under it. */
  readonly priorityPaths: readonly string[];
  readonly gradient: GradientSettings;
}

/** What the limiter reports; the metrics registry reads the gauges when scraped. */
export interface LimiterEvents {
  shed(mode: 'enforce' | 'shadow'): void;
  queueWait(seconds: number): void;
}

/** An admitted request's hold on a slot. */
export interface Permit {
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
  readonly adaptive?: ReturnType<GradientController['snapshot']>;
}

/** The permit of a request the limiter does not count (mode off, priority paths, tunnels). */
export const NO_PERMIT: Permit = Object.freeze({ responded: () => undefined, release: () => undefined });

class CountedPermit implements Permit {
  private readonly startedAt: number;
  private done = false;
  private sampled = false;

  constructor(private readonly limiter: ConcurrencyLimiter, private readonly inFlightAtStart: number) {
    this.startedAt = performance.now();
  }

  responded(): void {
    if (this.sampled || this.done) return;
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

export class ConcurrencyLimiter {
  private settings: LimiterSettings;
  private controller: GradientController | undefined;
  private inFlight = 0;
  private readonly queue: WaitQueue<Permit>;
  private readonly sheds = { enforce: 0, shadow: 0 };
  private exactPriority: ReadonlySet<string> = new Set();
  private prefixPriority: readonly string[] = [];
  private pumping = false;

  constructor(settings: LimiterSettings, private readonly events: LimiterEvents) {
    this.settings = settings;
    this.queue = new WaitQueue<Permit>((waiter, waitedMs) => this.expire(waiter, waitedMs));
    this.configure(settings);
  }

  /** Applies new settings in place: in-flight requests and the queue carry over. */
  configure(settings: LimiterSettings): void {
    const previous = this.settings;
    this.settings = settings;
    if (settings.limit !== 'adaptive') this.controller = undefined;
    else if (this.controller === undefined || JSON.stringify(previous.gradient) !== JSON.stringify(settings.gradient)) {
      this.controller = new GradientController(settings.gradient, performance.now());
    }
    this.exactPriority = new Set(settings.priorityPaths.filter((path) => !path.endsWith('/')));
    this.prefixPriority = settings.priorityPaths.filter((path) => path.endsWith('/'));
    this.queue.setTimeout(settings.queueTimeoutMs);
    if (settings.mode !== 'enforce') this.queue.grantAll(() => this.take());
    this.pump(); // a higher limit first: waiters it admits are not shed by a smaller queue
    this.queue.shrinkTo(settings.queueSize, (waiter) => this.shedQueued(waiter));
  }

  limit(): number {
    const { limit } = this.settings;
    return limit === 'adaptive' ? (this.controller as GradientController).limit() : limit;
  }

  acquire(url: string): Admission {
    const { mode } = this.settings;
    if (mode === 'off' || this.isPriority(url)) return NO_PERMIT;
    if (this.inFlight < this.limit() && this.queue.length === 0) return this.take();
    if (mode === 'shadow') {
      if (this.inFlight >= this.limit() + this.settings.queueSize) this.countShed('shadow');
      return this.take();
    }
    if (this.queue.length < this.settings.queueSize) return 'wait';
    this.countShed('enforce');
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

  state(): LimiterState {
    return {
      mode: this.settings.mode,
      limit: this.settings.mode === 'off' ? 0 : this.limit(),
      inFlight: this.inFlight,
      queued: this.queue.length,
      shed: { ...this.sheds },
      ...(this.controller === undefined ? {} : { adaptive: this.controller.snapshot() }),
    };
  }

  /** Sheds everything still queued and stops the queue's timer. */
  close(): void {
    this.queue.clear((waiter) => this.shedQueued(waiter));
  }

  /** @internal — from a permit. */
  sample(startedAt: number, inFlightAtStart: number): void {
    if (this.controller === undefined) return;
    const before = this.controller.limit();
    this.controller.sample(startedAt, performance.now(), inFlightAtStart);
    if (this.controller.limit() > before) this.pump();
  }

  /** @internal — from a permit. */
  releaseSlot(): void {
    this.inFlight -= 1;
    this.pump();
  }

  private take(): Permit {
    this.inFlight += 1;
    return new CountedPermit(this, this.inFlight);
  }

  private pump(): void {
    if (this.pumping) return; // a grant that releases at once re-enters here; the loop below continues
    this.pumping = true;
    try {
      while (this.queue.length > 0 && this.inFlight < this.limit()) {
        const { waiter, waitedMs } = this.queue.shift() as { waiter: Waiter; waitedMs: number };
        this.events.queueWait(waitedMs / 1000);
        waiter.granted(this.take());
      }
    } finally {
      this.pumping = false;
    }
  }

  private expire(waiter: Waiter, waitedMs: number): void {
    this.events.queueWait(waitedMs / 1000);
    this.shedQueued(waiter);
  }

  private shedQueued(waiter: Waiter): void {
    this.countShed('enforce');
    waiter.shed();
  }

  private countShed(mode: 'enforce' | 'shadow'): void {
    this.sheds[mode] += 1;
    this.events.shed(mode);
  }

  private isPriority(url: string): boolean {
    if (this.exactPriority.size === 0 && this.prefixPriority.length === 0) return false;
    const path = pathOf(url);
    if (this.exactPriority.has(path)) return true;
    for (const prefix of this.prefixPriority) if (path.startsWith(prefix)) return true;
    return false;
  }
}

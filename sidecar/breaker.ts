/**
 * The circuit breaker: the only file that imports opossum. opossum is used purely as the state
 * machine (rolling window, thresholds, open → half-open → closed); timeouts are enforced by the
 * proxy per request (opossum's own timer is per fire() and shares one AbortController per breaker,
 * opossum#780), so `timeout: false` here. The proxy checks `admit()` before touching the upstream,
 * which keeps the open-circuit path free of promises and allocations.
 *
 * A request admitted while the circuit is closed does not go through opossum's fire(), which
 * costs a promise, a closure and an arguments array per request (about 1.2 KB of heap): it counts
 * in opossum's own rolling window (`circuit.status`) what fire()'s events would count there — a
 * fire, then a success or a failure — and does what opossum does on them: a success closes a
 * half-open circuit; a failure is emitted as fire() emits it, then opossum's trip rule (its
 * `fail()`: volumeThreshold, errorThresholdPercentage) applies through `circuit.open()`. A success
 * is counted without an event (an EventEmitter's emit, its arguments array and its listeners, about
 * 250 bytes and a few µs a request with the ticket object; docs/performance.md); nothing else
 * listens. The half-open trial still goes through fire(): that is where opossum lets exactly one
 * request through. test/sidecar/breaker-equivalence.test.ts drives both ways with the same
 * outcomes and compares the windows, states and transitions.
 */
import { isDeepStrictEqual } from 'node:util';
import CircuitBreaker from 'opossum';
import { parseDuration } from '../api/duration.js';
import type { CircuitBreakerSettings } from '../api/schema.js';
import type { CircuitState, Logger, SidecarMetrics } from './contracts.js';

/** One admitted request; settle it exactly once. */
export interface BreakerTicket {
  settle(success: boolean): void;
}

export interface Breaker {
  /** A ticket to forward the request, or null when the request must be answered as circuit-open. */
  admit(): BreakerTicket | null;
  /** Whether admit() would answer circuit-open now, without counting a request. */
  rejects(): boolean;
  state(): CircuitState;
  /** Milliseconds until the next half-open trial while open, else 0. */
  msUntilTrial(): number;
  readonly settings: Readonly<CircuitBreakerSettings>;
  close(): void;
}

const NOOP_TICKET: BreakerTicket = { settle: () => undefined };
const FAILED = new Error('upstream failure');
/** fire()'s arguments as its events carry them; nothing listens for them. */
const NO_ARGS: readonly unknown[] = Object.freeze([]);

/** The half-open trial: settled through the promise opossum's fire() waits on. */
class Deferred implements BreakerTicket {
  private resolve!: () => void;
  private reject!: (error: Error) => void;
  private settled = false;
  readonly promise = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });

  settle(success: boolean): void {
    if (this.settled) return;
    this.settled = true;
    if (success) this.resolve();
    else this.reject(FAILED);
  }
}

const ignore = (): void => undefined;

/**
 * opossum's rolling window, as its circuit counts an event in it (its listeners call this method,
 * which its type declarations leave out; an upgrade that renames it fails breaker-equivalence.test.ts).
 */
interface RollingWindow {
  increment(property: 'fires' | 'successes', latency?: number): void;
}

/**
 * What fire() would do when its promise settles, for every request admitted while closed: one
 * object per breaker, since ExchangeEnd settles each ticket exactly once. opossum's latencies are
 * counted as 0: its percentiles are off, so nothing reads them.
 */
class ClosedTickets implements BreakerTicket {
  private readonly window: RollingWindow;

  constructor(private readonly circuit: CircuitBreaker, private readonly errorThresholdPercentage: number) {
    this.window = circuit.status as unknown as RollingWindow;
  }

  /** fire()'s count of a request it lets through. */
  admitOne(): BreakerTicket {
    this.window.increment('fires');
    return this;
  }

  settle(success: boolean): void {
    const circuit = this.circuit;
    if (circuit.isShutdown) return;
    if (success) {
      this.window.increment('successes', 0);
      if (circuit.halfOpen) circuit.close(); // opossum's own listener on 'success'
      return;
    }
    // opossum's fail(): the same event, then its trip rule (no warm-up, no error filter, no fallback here).
    circuit.emit('failure', FAILED, 0, NO_ARGS);
    const stats = circuit.stats;
    if (stats.fires < circuit.volumeThreshold && !circuit.halfOpen) return;
    if ((stats.failures / stats.fires) * 100 > this.errorThresholdPercentage || circuit.halfOpen) circuit.open();
  }
}

export function createBreaker(
  settings: Readonly<CircuitBreakerSettings>,
  metrics: SidecarMetrics,
  logger: Logger,
): Breaker {
  const resetTimeout = parseDuration(settings.resetTimeout);
  const shadow = settings.mode === 'shadow';
  const circuit = new CircuitBreaker((ticket: Deferred) => ticket.promise, {
    timeout: false,
    resetTimeout,
    errorThresholdPercentage: settings.errorThresholdPercentage,
    volumeThreshold: settings.volumeThreshold,
    rollingCountTimeout: parseDuration(settings.rollingWindow),
    rollingCountBuckets: 10,
    rollingPercentilesEnabled: false,
    enableSnapshots: false,
  });
  let openedAt = 0;
  let current: CircuitState = 'closed';

  const enter = (state: CircuitState): void => {
    current = state;
    metrics.circuitState(state);
    metrics.circuitTransition(state);
  };
  circuit.on('open', () => {
    openedAt = Date.now();
    enter('open');
    if (shadow) {
      metrics.shadowTrip();
      logger.warn({ event: 'shadow-trip', errorThresholdPercentage: settings.errorThresholdPercentage, volumeThreshold: settings.volumeThreshold }, 'circuit would have opened (shadow mode: traffic still forwarded)');
    } else {
      logger.warn({ event: 'circuit-open', resetTimeout: settings.resetTimeout }, 'circuit opened');
    }
  });
  circuit.on('halfOpen', () => enter('half-open'));
  circuit.on('close', () => {
    enter('closed');
    logger.info({ event: 'circuit-closed' }, 'circuit closed');
  });
  metrics.circuitState('closed');
  const closedTickets = new ClosedTickets(circuit, settings.errorThresholdPercentage);

  return {
    settings,
    admit(): BreakerTicket | null {
      // opossum rejects when open, and in half-open once its single trial is under way.
      if (!circuit.closed && !circuit.pendingClose) return shadow ? NOOP_TICKET : null;
      if (!circuit.pendingClose) return closedTickets.admitOne();
      const trial = new Deferred();
      circuit.fire(trial).catch(ignore);
      return trial;
    },
    rejects: () => !shadow && !circuit.closed && !circuit.pendingClose,
    state: () => current,
    msUntilTrial(): number {
      if (current !== 'open') return 0;
      return Math.max(0, openedAt + resetTimeout - Date.now());
    },
    close(): void {
      circuit.shutdown();
    },
  };
}

/** Whether two settings would build the same breaker (so a reload keeps its state). */
export function sameBreakerSettings(a: Readonly<CircuitBreakerSettings>, b: Readonly<CircuitBreakerSettings>): boolean {
  return isDeepStrictEqual(a, b);
}

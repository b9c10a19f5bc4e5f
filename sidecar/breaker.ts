/**
 * The circuit breaker: the only file that imports opossum. opossum is used purely as the state
 * machine (rolling window, thresholds, open → half-open → closed); timeouts are enforced by the
 * proxy per request (opossum's own timer is per fire() and shares one AbortController per breaker,
 * opossum#780), so `timeout: false` here. The proxy checks `admit()` before touching the upstream,
 * which keeps the open-circuit path free of promises and allocations.
 *
 * A request admitted while the circuit is closed does not go through opossum's fire(), which
 * costs a promise, a closure and an arguments array per request (about 1.2 KB of heap): its
 * ticket emits on the circuit the events fire() would emit — 'fire', then 'success' or 'failure' —
 * which drive opossum's own rolling window, and on a failure applies opossum's trip rule (its
 * `fail()`: volumeThreshold, errorThresholdPercentage) through `circuit.open()`. The half-open
 * trial still goes through fire(): that is where opossum lets exactly one request through.
 * test/sidecar/breaker-equivalence.test.ts drives both ways with the same outcomes and compares.
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

/** A request admitted while closed: what fire() would do when its promise settles, without one. */
class ClosedTicket implements BreakerTicket {
  private settled = false;
  private readonly startedAt = Date.now();

  constructor(private readonly circuit: CircuitBreaker, private readonly errorThresholdPercentage: number) {
    circuit.emit('fire', NO_ARGS);
  }

  settle(success: boolean): void {
    if (this.settled) return;
    this.settled = true;
    const circuit = this.circuit;
    if (circuit.isShutdown) return;
    const latency = Date.now() - this.startedAt;
    if (success) {
      circuit.emit('success', undefined, latency);
      return;
    }
    // opossum's fail(): the same event, then its trip rule (no warm-up, no error filter, no fallback here).
    circuit.emit('failure', FAILED, latency, NO_ARGS);
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

  return {
    settings,
    admit(): BreakerTicket | null {
      // opossum rejects when open, and in half-open once its single trial is under way.
      if (!circuit.closed && !circuit.pendingClose) return shadow ? NOOP_TICKET : null;
      if (!circuit.pendingClose) return new ClosedTicket(circuit, settings.errorThresholdPercentage);
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

/**
 * The circuit breaker: the only file that imports opossum. opossum is used purely as the state
 * machine (rolling window, thresholds, open → half-open → closed); timeouts are enforced by the
 * proxy per request (opossum's own timer is per fire() and shares one AbortController per breaker,
 * opossum#780), so `timeout: false` here. The proxy checks `admit()` before touching the upstream,
 * which keeps the open-circuit path free of promises and allocations.
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
      const ticket = new Deferred();
      circuit.fire(ticket).catch(ignore);
      return ticket;
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

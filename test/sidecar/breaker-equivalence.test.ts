/**
 * The sidecar's breaker drives opossum without a promise per request while the circuit is closed
 * (sidecar/breaker.ts). Here the same outcomes, in the same order and overlap, go to it and to
 * opossum driven the way opossum is meant to be driven (fire() with a promise per request), and
 * after every step both must agree: admitted or not, opossum's rolling window (what it counts for
 * its trip rule), the events each circuit emitted (but 'fire' and 'success', which the sidecar
 * counts in the window without an event), its state and transitions.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import CircuitBreaker from 'opossum';
import { silentLogger } from '../../api/logger.js';
import { defaultSidecarConfig } from '../../api/validate.js';
import { createBreaker, type BreakerTicket } from '../../sidecar/breaker.js';
import { eventually } from '../support/cli.js';
import { RecordingMetrics } from '../support/recording-metrics.js';

const settled = () => new Promise((resolve) => setImmediate(resolve));

/** Every event each circuit emits, in order (the sidecar's circuit is made inside createBreaker). */
const emitted = new Map<object, string[]>();
const emit = CircuitBreaker.prototype.emit;
CircuitBreaker.prototype.emit = function record(this: CircuitBreaker, name: string | symbol, ...rest: unknown[]): boolean {
  const events = emitted.get(this) ?? [];
  emitted.set(this, events);
  events.push(String(name));
  return emit.call(this, name, ...rest);
};
/** The events that are not counts in the window. */
const eventsOf = (circuit: object) => (emitted.get(circuit) ?? []).filter((name) => name !== 'fire' && name !== 'success');
/** The circuits whose `status` (the window) was asked for: only the sidecar's asks, once, when its breaker is made. */
const windowReaders: CircuitBreaker[] = [];
const status = Object.getOwnPropertyDescriptor(CircuitBreaker.prototype, 'status')?.get as (this: CircuitBreaker) => CircuitBreaker.Status;
Object.defineProperty(CircuitBreaker.prototype, 'status', {
  configurable: true,
  get(this: CircuitBreaker) {
    windowReaders.push(this);
    return status.call(this);
  },
});

interface Pending { settle(success: boolean): void }

/** opossum as its README drives it: one fire() per request, settled by the request's promise. */
function reference(volumeThreshold: number, errorThresholdPercentage: number, resetTimeout = 3_600_000) {
  const circuit = new CircuitBreaker((outcome: Promise<void>) => outcome, {
    timeout: false, resetTimeout, errorThresholdPercentage, volumeThreshold,
    rollingCountTimeout: 10_000, rollingCountBuckets: 10, rollingPercentilesEnabled: false, enableSnapshots: false,
  });
  const transitions: string[] = [];
  circuit.on('open', () => transitions.push('open'));
  circuit.on('close', () => transitions.push('closed'));
  return {
    transitions,
    circuit,
    admit(): Pending | null {
      if (!circuit.closed && !circuit.pendingClose) return null;
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const outcome = new Promise<void>((yes, no) => { resolve = yes; reject = no; });
      circuit.fire(outcome).catch(() => undefined);
      return { settle: (success) => (success ? resolve() : reject(new Error('failed'))) };
    },
  };
}

type Step = { kind: 'admit' } | { kind: 'settle'; which: number; success: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constant<Step>({ kind: 'admit' }),
  fc.record({ kind: fc.constant('settle' as const), which: fc.nat(), success: fc.boolean() }),
);

describe('breaker without a promise per request', () => {
  it('admits, counts and trips exactly as opossum driven through fire()', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 99 }), fc.array(step, { minLength: 1, maxLength: 60 }),
      async (volumeThreshold, errorThresholdPercentage, steps) => {
        emitted.clear();
        windowReaders.length = 0;
        const metrics = new RecordingMetrics();
        const settings = { ...defaultSidecarConfig().circuitBreaker, volumeThreshold, errorThresholdPercentage, resetTimeout: '1h', rollingWindow: '10s' };
        const ours = createBreaker(settings, metrics, silentLogger());
        const ourCircuit = windowReaders[0] as CircuitBreaker;
        expect(new Set(windowReaders)).toEqual(new Set([ourCircuit]));
        const theirs = reference(volumeThreshold, errorThresholdPercentage);
        const inFlight: [BreakerTicket, Pending][] = [];
        try {
          for (const next of steps) {
            if (next.kind === 'admit') {
              const ticket = ours.admit();
              const pending = theirs.admit();
              expect(ticket === null).toBe(pending === null);
              if (ticket !== null && pending !== null) inFlight.push([ticket, pending]);
            } else if (inFlight.length > 0) {
              const [ticket, pending] = inFlight.splice(next.which % inFlight.length, 1)[0] as [BreakerTicket, Pending];
              ticket.settle(next.success);
              pending.settle(next.success);
            }
            await settled();
            expect(ours.state()).toBe(theirs.circuit.opened ? 'open' : theirs.circuit.halfOpen ? 'half-open' : 'closed');
            expect(metrics.transitions).toEqual(theirs.transitions);
            expect(eventsOf(ourCircuit)).toEqual(eventsOf(theirs.circuit));
            expect(ourCircuit.stats).toEqual(theirs.circuit.stats);
          }
        } finally {
          ours.close();
          theirs.circuit.shutdown();
        }
      },
    ), { numRuns: 300 });
  });
});

describe('breaker without a promise per request: half-open', () => {
  it('closes, as opossum does, when a request admitted while closed succeeds after the circuit went half-open', async () => {
    const metrics = new RecordingMetrics();
    const ours = createBreaker({ ...defaultSidecarConfig().circuitBreaker, volumeThreshold: 1, errorThresholdPercentage: 10, resetTimeout: '50ms', rollingWindow: '10s' }, metrics, silentLogger());
    const theirs = reference(1, 10, 50);
    try {
      const held = [ours.admit(), theirs.admit()];
      const failing = [ours.admit(), theirs.admit()];
      for (const ticket of failing) ticket?.settle(false);
      await settled();
      expect(ours.state()).toBe('open');
      expect(theirs.circuit.opened).toBe(true);
      await eventually(() => ours.state() === 'half-open' && theirs.circuit.halfOpen, 10_000, 'both half-open');
      for (const ticket of held) ticket?.settle(true);
      await settled();
      expect(ours.state()).toBe('closed');
      expect(theirs.circuit.closed).toBe(true);
      expect(metrics.transitions).toEqual(['open', 'half-open', 'closed']);
      expect(theirs.transitions).toEqual(['open', 'closed']);
    } finally {
      ours.close();
      theirs.circuit.shutdown();
    }
  });
});

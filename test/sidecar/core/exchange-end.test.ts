import { describe, expect, it } from '@jest/globals';
import type { BreakerTicket } from '../../../sidecar/breaker.js';
import { ExchangeEnd, type ExchangeOutcome } from '../../../sidecar/core/exchange-end.js';
import type { Permit } from '../../../sidecar/overload/limiter.js';
import { capturingLogger } from '../../support/capturing-logger.js';
import { RecordingMetrics } from '../../support/recording-metrics.js';

/** A ticket and a permit that record what was done with them. */
function ledger() {
  const settled: boolean[] = [];
  let released = 0;
  const ticket: BreakerTicket = { settle: (success) => { settled.push(success); } };
  const permit: Permit = { sending: () => undefined, responded: () => undefined, release: () => { released += 1; } };
  return { ticket, permit, settled, released: () => released };
}

function exchangeEnd(accessLog = true) {
  const metrics = new RecordingMetrics();
  const { lines, logger } = capturingLogger();
  const books = ledger();
  const end = new ExchangeEnd({ metrics, logger, accessLog }, { method: 'GET', target: '/a', requestId: 'r-1', traceId: undefined }, books.ticket, books.permit);
  return { end, metrics, lines, ...books };
}

const answered: ExchangeOutcome = { status: 502, reason: 'reset', appFailed: true, error: new Error('closed before responding') };

describe('ExchangeEnd.finish: the one way an exchange ends', () => {
  it('settles the ticket, releases the permit, counts and logs once', () => {
    const { end, metrics, lines, settled, released } = exchangeEnd();
    expect(end.finish(answered)).toBe(true);
    expect(settled).toEqual([false]);
    expect(released()).toBe(1);
    expect(metrics.requests).toEqual([{ code: 502, reason: 'reset' }]);
    expect(lines.filter((line) => line.msg === 'request')).toEqual([
      expect.objectContaining({ method: 'GET', path: '/a', status: 502, reason: 'reset', requestId: 'r-1', error: 'closed before responding' }),
    ]);
    expect(end.isFinished).toBe(true);
  });

  it('does nothing on a second finish, whatever it says', () => {
    const { end, metrics, lines, settled, released } = exchangeEnd();
    end.finish({ status: 200, reason: '', appFailed: false });
    expect(end.finish(answered)).toBe(false);
    expect(end.finish({ status: null, reason: '', appFailed: false })).toBe(false);
    expect(settled).toEqual([true]);
    expect(released()).toBe(1);
    expect(metrics.requests).toEqual([{ code: 200, reason: '' }]);
    expect(lines.filter((line) => line.msg === 'request')).toHaveLength(1);
  });

  it('a client that left unanswered is neither counted nor logged, and never blamed on the app', () => {
    const { end, metrics, lines, settled, released } = exchangeEnd();
    end.finish({ status: null, reason: '', appFailed: false });
    expect(settled).toEqual([true]);
    expect(released()).toBe(1);
    expect(metrics.requests).toEqual([]);
    expect(lines).toEqual([]);
  });

  it('writes no log line when the access log is off, and still counts', () => {
    const { end, metrics, lines } = exchangeEnd(false);
    end.finish({ status: 101, reason: '', appFailed: false });
    expect(metrics.requests).toEqual([{ code: 101, reason: '' }]);
    expect(lines).toEqual([]);
  });
});

/**
 * Access-log lines for answers the sidecar gives without the app — the open circuit above all —
 * rate-limited so an outage cannot flood the log: a token bucket of `perSecond` lines a second
 * (bursts up to `burst`). Lines over the limit are counted, not written: the next written line
 * carries `skipped` (how many were left out before it) and badgateway_access_log_skipped_total
 * counts them all. The request id on the error page is thus findable whenever the outage is not
 * so large that sampling is the only sane answer, and how much was left out is always known.
 */
import type { Logger, Reason } from './contracts.js';

export interface AccessLogSamplerOptions {
  /** Lines per second written in a sustained stretch (default 10). */
  perSecond?: number;
  /** Lines written at once after a quiet stretch (default 20). */
  burst?: number;
  /** Monotonic milliseconds; injectable for tests. */
  now?: () => number;
  /** Told about every line left out (for the metric). */
  onSkipped?(reason: Reason): void;
}

/** What the access log says of a request the sidecar answered itself. */
export interface FastFailureLine {
  method: string;
  path: string;
  status: number;
  reason: Reason;
  requestId: string;
  traceId: string | undefined;
}

export interface AccessLogSampler {
  /** Writes the access-log line of a request the sidecar answered itself, unless over the rate. */
  log(logger: Logger, line: FastFailureLine): void;
  /** Lines left out since start. */
  skippedTotal(): number;
}

export function createAccessLogSampler(options: AccessLogSamplerOptions = {}): AccessLogSampler {
  const perSecond = options.perSecond ?? 10;
  const burst = options.burst ?? 20;
  const now = options.now ?? (() => performance.now());
  let tokens = burst;
  let refilledAt = now();
  let skippedSinceLine = 0;
  let skippedTotal = 0;

  const take = (): boolean => {
    const at = now();
    tokens = Math.min(burst, tokens + ((at - refilledAt) / 1000) * perSecond);
    refilledAt = at;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };

  return {
    log: (logger, line) => {
      if (!take()) {
        skippedSinceLine += 1;
        skippedTotal += 1;
        options.onSkipped?.(line.reason);
        return;
      }
      const skipped = skippedSinceLine;
      skippedSinceLine = 0;
      const { traceId, ...fields } = line;
      logger.info({ ...fields, ...(traceId === undefined ? {} : { traceId }), ...(skipped === 0 ? {} : { skipped }) }, 'request');
    },
    skippedTotal: () => skippedTotal,
  };
}

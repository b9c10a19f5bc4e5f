/**
 * The one way an exchange ends, whatever the protocol: `finish(outcome)` settles the breaker
 * ticket, releases the limiter permit, counts the request and writes its access-log line, exactly
 * once. Every exit of an exchange (answered, failed, tunnelled, truncated, client gone) calls it;
 * a second call is a no-op, so no exit can settle twice or leak a limiter slot.
 */
import { performance } from 'node:perf_hooks';
import type { BreakerTicket } from '../breaker.js';
import type { Logger, Reason, SidecarMetrics } from '../contracts.js';
import type { Permit } from '../overload/limiter.js';

export interface ExchangeOutcome {
  /** The status the client was answered with; null when it left before any answer (not counted, not logged). */
  readonly status: number | null;
  /** '' for a response the app itself sent. */
  readonly reason: Reason | '';
  /** Whether the breaker counts the exchange against the app. */
  readonly appFailed: boolean;
  readonly error?: Error;
  /** The gRPC status the client got (the app's or the sidecar's own), for a gRPC call. */
  readonly grpcStatus?: number;
}

/** Where an exchange's outcome is recorded. */
export interface OutcomeRecorder {
  readonly metrics: SidecarMetrics;
  readonly logger: Logger;
  /** Whether the access log (level info) is written at all; when not, its object is never built. */
  readonly accessLog: boolean;
}

/** What the access-log line says about the request. */
export interface ExchangeDescription {
  readonly method: string;
  readonly target: string;
  readonly requestId: string;
  readonly traceId: string | undefined;
  /** Said in the access log when not HTTP/1.1 ('h2'). */
  readonly protocol?: string;
}

export class ExchangeEnd {
  readonly startedAt = performance.now();
  private finished = false;

  constructor(
    private readonly recorder: OutcomeRecorder,
    private readonly request: ExchangeDescription,
    private readonly ticket: BreakerTicket,
    /** The limiter's slot: a response head (or timeout) is its RTT sample; the end frees it. */
    readonly permit: Permit,
  ) {}

  get isFinished(): boolean {
    return this.finished;
  }

  /** Milliseconds since the exchange started. */
  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  /** Records `outcome`; false when the exchange had already ended (nothing is done then). */
  finish(outcome: ExchangeOutcome): boolean {
    if (this.finished) return false;
    this.finished = true;
    this.ticket.settle(!outcome.appFailed);
    if (outcome.status !== null) {
      this.recorder.metrics.request(outcome.status, outcome.reason);
      if (this.recorder.accessLog) this.log(outcome.status, outcome);
    }
    this.permit.release();
    return true;
  }

  private log(status: number, { reason, error, grpcStatus }: ExchangeOutcome): void {
    const request = this.request;
    this.recorder.logger.info({
      ...(request.protocol === undefined ? {} : { protocol: request.protocol }),
      method: request.method,
      path: request.target,
      status,
      reason,
      upstreamMs: Math.round(this.elapsedMs() * 100) / 100,
      requestId: request.requestId,
      ...(request.traceId === undefined ? {} : { traceId: request.traceId }),
      ...(grpcStatus === undefined ? {} : { grpcStatus }),
      ...(error === undefined ? {} : { error: error.message }),
    }, 'request');
  }
}

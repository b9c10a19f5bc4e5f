/**
 * The sidecar's Prometheus metrics (prom-client), one registry per instance so tests and embedded
 * uses never share counters. Names are the design's contract.
 *
 * The five parts used come from their own files, not prom-client's index, which also loads the
 * Pushgateway (http, https, zlib), cluster aggregation and summaries: about 4 MiB and 50 ms of
 * start-up. prom-client has no `exports` map, so the paths are reachable; a rename in an upgrade
 * fails every metrics test. Their types: sidecar/vendor-paths.d.ts.
 */
import Counter from 'prom-client/lib/counter.js';
import collectDefaultMetrics from 'prom-client/lib/defaultMetrics.js';
import Gauge from 'prom-client/lib/gauge.js';
import Histogram from 'prom-client/lib/histogram.js';
import Registry from 'prom-client/lib/registry.js';
import { BucketHistogram } from './bucket-histogram.js';
import { CLIENT_CONNECTION_ERROR_KINDS } from './core/failures.js';
import { LabelCounts } from './label-counts.js';
import type { CircuitState, ClientConnectionErrorKind, OverloadGauges, Reason, SidecarMetrics } from './contracts.js';
import { SHED_CAUSES, type ShedCause } from './overload/limiter.js';

const STATE_VALUE: Readonly<Record<CircuitState, number>> = { closed: 0, 'half-open': 1, open: 2 };

export class PrometheusSidecarMetrics implements SidecarMetrics {
  readonly registry = new Registry();
  /** Counted per status and reason in plain numbers (label-counts.ts): the open circuit's path too. */
  private readonly requestCounts = new LabelCounts<number, Reason | ''>();
  private readonly requests: InstanceType<typeof Counter> = new Counter({
    name: 'badgateway_requests_total', help: 'Requests answered, by status code and badgateway reason ("" for responses the app sent).', labelNames: ['code', 'reason'] as const, registers: [this.registry],
    collect: () => this.requestCounts.reportNew((code, reason, increment) => this.requests.inc({ code: String(code), reason }, increment)),
  });
  /** Counted like requests: once per HTTP/2 stream. */
  private readonly http2Counts = new LabelCounts<'grpc' | 'http', string>();
  private readonly http2Requests: InstanceType<typeof Counter> = new Counter({ name: 'badgateway_http2_requests_total', help: 'HTTP/2 streams answered (also counted in badgateway_requests_total), by kind (grpc or http) and the grpc-status the client got ("" when none).', labelNames: ['kind', 'grpc_status'] as const, registers: [this.registry],
    collect: () => this.http2Counts.reportNew((kind, grpcStatus, increment) => this.http2Requests.inc({ kind, grpc_status: grpcStatus }, increment)),
  });
  /** Observed per request: counted in plain numbers (bucket-histogram.ts). */
  private readonly upstreamSeconds = new BucketHistogram('badgateway_upstream_duration_seconds', 'Time from sending a request upstream to its response head or failure.', [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], this.registry);
  private readonly state = new Gauge({ name: 'badgateway_circuit_state', help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.', registers: [this.registry] });
  private readonly transitions = new Counter({ name: 'badgateway_circuit_transitions_total', help: 'Circuit breaker transitions, by the state entered.', labelNames: ['to'] as const, registers: [this.registry] });
  private readonly reloads = new Counter({ name: 'badgateway_config_reloads_total', help: 'Configuration reloads, by result.', labelNames: ['result'] as const, registers: [this.registry] });
  private readonly shadowTrips = new Counter({ name: 'badgateway_shadow_trips_total', help: 'Times the breaker would have opened in shadow mode.', registers: [this.registry] });
  private readonly clientConnectionErrors = new Counter({ name: 'badgateway_client_connection_errors_total', help: 'Client connections that timed out, were reset or sent unparseable bytes, by kind.', labelNames: ['kind'] as const, registers: [this.registry] });
  private readonly reusedSocketFailures = new Counter({ name: 'badgateway_reused_socket_failures_total', help: 'Pooled upstream connections found closed by the app (keep-alive race), recovered by a retry.', registers: [this.registry] });

  /** Counted in plain numbers, reported at scrape time, like requests: it is called on the open circuit's path. */
  private readonly skippedLines = new Map<Reason, { count: number; reported: number }>();
  private readonly accessLogSkippedLines = new Counter({
    name: 'badgateway_access_log_skipped_total', help: 'Access-log lines left out by the rate limit on answers the sidecar gave itself (e.g. circuit-open), by reason.', labelNames: ['reason'] as const, registers: [this.registry],
    collect: () => {
      for (const [reason, entry] of this.skippedLines) {
        if (entry.count === entry.reported) continue;
        this.accessLogSkippedLines.inc({ reason }, entry.count - entry.reported);
        entry.reported = entry.count;
      }
    },
  });
  private readOverload: () => OverloadGauges = () => ({ limit: 0, inFlight: 0, queued: 0, queue: { standingSeconds: 0, lifoSwitches: 0 } });
  private readonly overloadLimit: InstanceType<typeof Gauge> = new Gauge({ name: 'badgateway_overload_limit', help: 'Requests the overload limiter lets the app have in flight now (0 while overload.mode is off).', registers: [this.registry], collect: (): void => this.overloadLimit.set(this.readOverload().limit) });
  private readonly overloadInFlight: InstanceType<typeof Gauge> = new Gauge({ name: 'badgateway_overload_inflight', help: 'Requests the overload limiter counts as in flight at the app.', registers: [this.registry], collect: (): void => this.overloadInFlight.set(this.readOverload().inFlight) });
  private readonly overloadQueued: InstanceType<typeof Gauge> = new Gauge({ name: 'badgateway_overload_queued', help: 'Requests waiting in the overload limiter\'s queue.', registers: [this.registry], collect: (): void => this.overloadQueued.set(this.readOverload().queued) });
  private readonly overloadWait = new Histogram({ name: 'badgateway_overload_queue_wait_seconds', help: 'Time requests waited in the overload queue, granted or shed.', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry] });
  private readonly overloadSheds = new Counter({ name: 'badgateway_overload_shed_total', help: 'Requests shed by the overload limiter (mode enforce), or that it would have shed (mode shadow).', labelNames: ['mode'] as const, registers: [this.registry] });
  private readonly overloadShedCauses = new Counter({ name: 'badgateway_overload_shed_by_cause_total', help: 'Requests shed (or, in shadow, that would have been) by cause: limit (no queue), queue-full, queue-timeout, circuit-open (it opened while the request waited).', labelNames: ['mode', 'cause'] as const, registers: [this.registry] });
  private readonly reportedQueue = { standingSeconds: 0, lifoSwitches: 0 };
  private readonly overloadStanding: InstanceType<typeof Counter> = new Counter({
    name: 'badgateway_overload_queue_standing_seconds_total', help: 'Time the overload queue has stood: arriving requests kept finding the app full for queue.interval, so waits were cut to queue.target.', registers: [this.registry],
    collect: (): void => this.reportQueue('standingSeconds', this.overloadStanding),
  });
  private readonly overloadLifoSwitches: InstanceType<typeof Counter> = new Counter({
    name: 'badgateway_overload_lifo_switches_total', help: 'Times the overload queue began to stand and so to serve its newest request first (queue.order adaptive-lifo).', registers: [this.registry],
    collect: (): void => this.reportQueue('lifoSwitches', this.overloadLifoSwitches),
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.state.set(0);
    for (const result of ['success', 'error'] as const) this.reloads.inc({ result }, 0);
    this.accessLogSkippedLines.inc({ reason: 'circuit-open' }, 0);
    // Present from the start, so increase() over a scrape window counts the first transition too.
    for (const to of ['closed', 'half-open', 'open'] as const) this.transitions.inc({ to }, 0);
    for (const kind of CLIENT_CONNECTION_ERROR_KINDS) this.clientConnectionErrors.inc({ kind }, 0);
    for (const mode of ['enforce', 'shadow'] as const) {
      this.overloadSheds.inc({ mode }, 0);
      for (const cause of SHED_CAUSES) this.overloadShedCauses.inc({ mode, cause }, 0);
    }
  }

  request(code: number, reason: Reason | ''): void {
    this.requestCounts.count(code, reason);
  }

  http2Request(kind: 'grpc' | 'http', grpcStatus: string): void {
    this.http2Counts.count(kind, grpcStatus);
  }

  upstreamDuration(seconds: number): void {
    this.upstreamSeconds.observe(seconds);
  }

  circuitState(state: CircuitState): void {
    this.state.set(STATE_VALUE[state]);
  }

  circuitTransition(to: CircuitState): void {
    this.transitions.inc({ to });
  }

  shadowTrip(): void {
    this.shadowTrips.inc();
  }

  reusedSocketFailure(): void {
    this.reusedSocketFailures.inc();
  }

  clientConnectionError(kind: ClientConnectionErrorKind): void {
    this.clientConnectionErrors.inc({ kind });
  }

  configReload(result: 'success' | 'error'): void {
    this.reloads.inc({ result });
  }

  accessLogSkipped(reason: Reason): void {
    const entry = this.skippedLines.get(reason);
    if (entry === undefined) this.skippedLines.set(reason, { count: 1, reported: 0 });
    else entry.count += 1;
  }

  overloadShed(mode: 'enforce' | 'shadow', cause: ShedCause): void {
    this.overloadSheds.inc({ mode });
    this.overloadShedCauses.inc({ mode, cause });
  }

  /** The limiter keeps the totals; a scrape adds what grew since the last one. */
  private reportQueue(key: 'standingSeconds' | 'lifoSwitches', counter: InstanceType<typeof Counter>): void {
    const total = this.readOverload().queue[key];
    if (total > this.reportedQueue[key]) counter.inc(total - this.reportedQueue[key]);
    this.reportedQueue[key] = Math.max(total, this.reportedQueue[key]);
  }

  overloadQueueWait(seconds: number): void {
    this.overloadWait.observe(seconds);
  }

  overloadGauges(read: () => OverloadGauges): void {
    this.readOverload = read;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

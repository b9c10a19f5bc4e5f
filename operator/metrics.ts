/** The operator's Prometheus metrics, on their own registry. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface OperatorMetrics {
  observeReconcile(outcome: { durationMs: number; error?: unknown }): void;
  setQueueDepth(read: () => number): void;
  setLeader(leader: boolean): void;
  contentType: string;
  text(): Promise<string>;
}

export function createOperatorMetrics(): OperatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'badgateway_operator_' });
  const reconciles = new Counter({ name: 'badgateway_operator_reconciles_total', help: 'Policy reconciles, by result.', labelNames: ['result'], registers: [registry] });
  const errors = new Counter({ name: 'badgateway_operator_reconcile_errors_total', help: 'Failed policy reconciles (retried with backoff).', registers: [registry] });
  const duration = new Histogram({ name: 'badgateway_operator_reconcile_duration_seconds', help: 'Time per policy reconcile.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] });
  const leader = new Gauge({ name: 'badgateway_operator_leader', help: '1 while this instance holds the leader lease.', registers: [registry] });
  let depth: () => number = () => 0;
  new Gauge({ name: 'badgateway_operator_queue_depth', help: 'Policy keys waiting for a reconcile.', registers: [registry], collect() { this.set(depth()); } });
  return {
    observeReconcile: (outcome) => {
      duration.observe(outcome.durationMs / 1000);
      reconciles.inc({ result: outcome.error === undefined ? 'success' : 'error' });
      if (outcome.error !== undefined) errors.inc();
    },
    setQueueDepth: (read) => { depth = read; },
    setLeader: (value) => leader.set(value ? 1 : 0),
    contentType: registry.contentType,
    text: () => registry.metrics(),
  };
}

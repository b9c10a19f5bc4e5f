/** The operator's Prometheus metrics, on their own registry. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What one admission review ended as: a patch sent, allowed as it was, refused as malformed, or allowed unchanged after an internal error. */
export type WebhookResult = 'patched' | 'unchanged' | 'malformed' | 'error';

/** One policy's conditions, as the controller's cache holds them. */
export interface PolicyConditions {
  conditions?: readonly { type: string; status: string }[];
}

export interface OperatorMetrics {
  observeReconcile(outcome: { durationMs: number; error?: unknown }): void;
  observeWebhook(outcome: { result: WebhookResult; durationMs: number }): void;
  /** The webhook serving certificate's notAfter. */
  setCertificateExpiry(notAfter: Date): void;
  /** Policies by condition are read from this at scrape time (empty while not leading). */
  setPolicies(read: () => readonly PolicyConditions[]): void;
  setQueueDepth(read: () => number): void;
  setLeader(leader: boolean): void;
  contentType: string;
  text(): Promise<string>;
  /** The registry itself, for the generated metric list in docs/observability.md. */
  readonly registry: Registry;
}

/**
 * Why a reconcile failed, from the Kubernetes API status code client-node attaches; a bounded set,
 * so the label never grows with error messages.
 */
export function reconcileErrorReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'number') return 'other';
  if (code === 403) return 'forbidden';
  if (code === 404) return 'not-found';
  if (code === 409) return 'conflict';
  if (code === 422) return 'invalid';
  if (code === 429) return 'throttled';
  if (code >= 500) return 'server-error';
  return 'other';
}

export function createOperatorMetrics(): OperatorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'badgateway_operator_' });
  const reconciles = new Counter({ name: 'badgateway_operator_reconciles_total', help: 'Policy reconciles, by result.', labelNames: ['result'], registers: [registry] });
  const errors = new Counter({ name: 'badgateway_operator_reconcile_errors_total', help: 'Failed policy reconciles (retried with backoff), by reason.', labelNames: ['reason'], registers: [registry] });
  const duration = new Histogram({ name: 'badgateway_operator_reconcile_duration_seconds', help: 'Time per policy reconcile.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] });
  const webhookRequests = new Counter({ name: 'badgateway_operator_webhook_requests_total', help: 'Admission reviews answered, by result (patched, unchanged, malformed, error).', labelNames: ['result'], registers: [registry] });
  const webhookDuration = new Histogram({ name: 'badgateway_operator_webhook_duration_seconds', help: 'Time to answer an admission review.', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [registry] });
  const certificateExpiry = new Gauge({ name: 'badgateway_operator_webhook_certificate_expiry_timestamp_seconds', help: 'Unix time at which the webhook serving certificate expires.', registers: [registry] });
  const leader = new Gauge({ name: 'badgateway_operator_leader', help: '1 while this instance holds the leader lease.', registers: [registry] });
  let policies: () => readonly PolicyConditions[] = () => [];
  new Gauge({
    name: 'badgateway_operator_policies', help: 'BadGatewayPolicies by condition type and status (reported by the leader).', labelNames: ['condition', 'status'], registers: [registry],
    collect() {
      this.reset();
      for (const policy of policies()) {
        for (const condition of policy.conditions ?? []) this.inc({ condition: condition.type, status: condition.status });
      }
    },
  });
  let depth: () => number = () => 0;
  new Gauge({ name: 'badgateway_operator_queue_depth', help: 'Policy keys waiting for a reconcile.', registers: [registry], collect() { this.set(depth()); } });
  for (const result of ['patched', 'unchanged', 'malformed', 'error'] as const) webhookRequests.inc({ result }, 0);
  return {
    registry,
    observeReconcile: (outcome) => {
      duration.observe(outcome.durationMs / 1000);
      reconciles.inc({ result: outcome.error === undefined ? 'success' : 'error' });
      if (outcome.error !== undefined) errors.inc({ reason: reconcileErrorReason(outcome.error) });
    },
    observeWebhook: (outcome) => {
      webhookRequests.inc({ result: outcome.result });
      webhookDuration.observe(outcome.durationMs / 1000);
    },
    setCertificateExpiry: (notAfter) => certificateExpiry.set(Math.floor(notAfter.getTime() / 1000)),
    setPolicies: (read) => { policies = read; },
    setQueueDepth: (read) => { depth = read; },
    setLeader: (value) => leader.set(value ? 1 : 0),
    contentType: registry.contentType,
    text: () => registry.metrics(),
  };
}

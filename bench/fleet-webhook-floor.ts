/**
 * The webhook's latency during the fleet's rollout, separated: the apiserver's histogram
 * (`apiserver_admission_webhook_admission_duration_seconds`) for the operator's webhook and for a
 * no-op one beside it (fleet-noop-webhook.ts, same rules and failurePolicy), and each server's own
 * view of its reviews (the operator's `badgateway_operator_webhook_duration_seconds`). The no-op's
 * figure at the apiserver is the floor on this machine: the apiserver's call with no work behind it.
 * What the operator's adds over it, and how much of that its own review time explains, is the
 * webhook's cost.
 */
import { fork } from 'node:child_process';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import type { ApiTarget } from '../test/cluster/api-request.js';
import { inParallel, must } from './fleet-cluster.ts';
import { bucketDelta, buckets, histogramQuantile } from './fleet-metrics.ts';
import type { NoopWindow } from './fleet-noop-webhook.ts';
import { WEBHOOK_NAME, webhookConfiguration } from './fleet-operator.ts';
import { freePort, percentile } from './processes.ts';

const NOOP_CONFIGURATION = 'fleet-bench-noop';
export const NOOP_WEBHOOK = 'noop.bench.badgateway.io';
const CONFIGURATIONS = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
const APISERVER_HISTOGRAM = 'apiserver_admission_webhook_admission_duration_seconds';
const OPERATOR_HISTOGRAM = 'badgateway_operator_webhook_duration_seconds';

export interface WebhookFloor {
  port: number;
  /** Starts the no-op's window: its reviews, handshakes and times from when it resolves. */
  reset(): Promise<void>;
  window(): Promise<NoopWindow>;
  stop(): Promise<void>;
}

/** The no-op webhook started (serving `certDir`'s localhost certificate) and registered; failurePolicy Fail, as the operator's. */
export async function startWebhookFloor(target: ApiTarget, certDir: string, caPem: string): Promise<WebhookFloor> {
  const port = await freePort();
  const child = fork(join(import.meta.dirname, 'fleet-noop-webhook.ts'), [String(port), certDir], {
    execArgv: ['--experimental-transform-types', '--disable-warning=ExperimentalWarning'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  await new Promise<void>((resolveListening, reject) => {
    child.once('message', () => resolveListening());
    void exited.then(() => reject(new Error(`the no-op webhook exited (${child.exitCode}) before it listened`)));
  });
  await must(target, 'POST', CONFIGURATIONS, webhookConfiguration(NOOP_CONFIGURATION, NOOP_WEBHOOK, port, caPem), [201]);
  return {
    port,
    reset: () => new Promise((resolveReset) => {
      child.once('message', () => resolveReset());
      child.send('reset');
    }),
    window: () => new Promise((resolveWindow) => {
      child.once('message', (message) => resolveWindow((message as { stats: NoopWindow }).stats));
      child.send('stats');
    }),
    stop: async () => {
      // Failing closed, a configuration left behind would stop every opted-in Deployment's writes on a --kubeconfig cluster.
      await must(target, 'DELETE', `${CONFIGURATIONS}/${NOOP_CONFIGURATION}`, undefined, [200, 404]).catch(() => undefined);
      if (child.connected) child.disconnect();
      await exited;
    },
  };
}

export interface WebhookScrapes { apiserver: string; operator: string }

const ms = (seconds: number | undefined): number => Number(((seconds ?? NaN) * 1000).toFixed(1));

/** p50, p99 and the share within the apiserver's 5 ms and 25 ms buckets (its histogram has none between). */
function histogramFigures(prefix: string, before: string, after: string, histogram: string, filter: Record<string, string>): Record<string, number> {
  const window = bucketDelta(buckets(before, histogram, filter), buckets(after, histogram, filter));
  const count = window.get(Infinity) ?? 0;
  const within = (bound: number): number => (count > 0 ? Math.round(((window.get(bound) ?? 0) / count) * 100) : NaN);
  return {
    [`${prefix}_count`]: count,
    [`${prefix}_p50_ms`]: ms(histogramQuantile(0.5, window)),
    [`${prefix}_p99_ms`]: ms(histogramQuantile(0.99, window)),
    [`${prefix}_within_5ms_pct`]: within(0.005),
    [`${prefix}_within_25ms_pct`]: within(0.025),
  };
}

/** The figures of a window between two scrapes of the apiserver's and the operator's /metrics, with the no-op's window. */
export function webhookFigures(before: WebhookScrapes, after: WebhookScrapes, noop: NoopWindow): Record<string, number> {
  const ours = histogramFigures('webhook', before.apiserver, after.apiserver, APISERVER_HISTOGRAM, { name: WEBHOOK_NAME, type: 'admit' });
  const floor = histogramFigures('noop_webhook', before.apiserver, after.apiserver, APISERVER_HISTOGRAM, { name: NOOP_WEBHOOK, type: 'admit' });
  const review = histogramFigures('operator_review', before.operator, after.operator, OPERATOR_HISTOGRAM, {});
  return {
    webhook_admissions: ours['webhook_count'] as number,
    webhook_p50_ms: ours['webhook_p50_ms'] as number,
    webhook_p99_ms: ours['webhook_p99_ms'] as number,
    webhook_within_5ms_pct: ours['webhook_within_5ms_pct'] as number,
    webhook_within_25ms_pct: ours['webhook_within_25ms_pct'] as number,
    ...floor,
    operator_reviews: review['operator_review_count'] as number,
    operator_review_p50_ms: review['operator_review_p50_ms'] as number,
    operator_review_p99_ms: review['operator_review_p99_ms'] as number,
    noop_reviews: noop.reviews,
    noop_review_p50_ms: Number(percentile(noop.durationsMs, 50).toFixed(2)),
    noop_review_p99_ms: Number(percentile(noop.durationsMs, 99).toFixed(2)),
    noop_tls_handshakes: noop.handshakes,
  };
}

/** One line for the bench's output: both webhooks at the apiserver, then inside their servers, then the connections. */
export function describeWebhooks(figures: Record<string, number>): string {
  const f = (name: string): string => String(figures[name]);
  return `webhook during the rollout, p50 / p99 ms: at the apiserver ours ${f('webhook_p50_ms')} / ${f('webhook_p99_ms')} `
    + `(${f('webhook_within_5ms_pct')} % ≤ 5 ms, ${f('webhook_within_25ms_pct')} % ≤ 25 ms), `
    + `no-op floor ${f('noop_webhook_p50_ms')} / ${f('noop_webhook_p99_ms')} (${f('noop_webhook_within_5ms_pct')} % ≤ 5 ms, ${f('noop_webhook_within_25ms_pct')} % ≤ 25 ms; ${f('noop_webhook_count')} admissions); `
    + `inside the servers ours ${f('operator_review_p50_ms')} / ${f('operator_review_p99_ms')} (${f('operator_reviews')} reviews), no-op ${f('noop_review_p50_ms')} / ${f('noop_review_p99_ms')}; `
    + `the no-op's ${f('noop_reviews')} reviews came over ${f('noop_tls_handshakes')} new TLS connections`;
}

/**
 * `count` reviews of `object` sent by the bench itself to the no-op, `concurrency` at a time over
 * kept-alive HTTPS connections (as the apiserver's client keeps them): an HTTPS call between two
 * processes on this machine at this moment, without the apiserver. Each one's round trip, ms.
 */
export async function directCalls(floor: WebhookFloor, caPem: string, object: unknown, count: number, concurrency: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca: caPem });
  const review = (uid: string): string => JSON.stringify({
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: { uid, kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, resource: { group: 'apps', version: 'v1', resource: 'deployments' }, operation: 'UPDATE', object },
  });
  const call = (uid: string): Promise<number> => new Promise((resolveCall, reject) => {
    const body = review(uid);
    const started = performance.now();
    const sent = request(`https://localhost:${floor.port}/mutate`, {
      method: 'POST', agent, timeout: 30_000, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    }, (answer) => {
      answer.resume();
      answer.on('end', () => (answer.statusCode === 200 ? resolveCall(performance.now() - started) : reject(new Error(`the no-op answered ${answer.statusCode}`))));
    });
    sent.on('timeout', () => sent.destroy(new Error('the no-op did not answer within 30 s')));
    sent.on('error', reject);
    sent.end(body);
  });
  const durations: number[] = [];
  await inParallel(Array.from({ length: count }, (_, index) => index), concurrency, async (index) => { durations.push(await call(`direct-${index}`)); });
  agent.destroy();
  return durations;
}

/**
 * The operator metrics a cluster operator needs to alert on: webhook reviews by result and their
 * latency (through the real webhook server over TLS), the serving certificate's expiry, reconcile
 * errors by reason and policies by condition.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent, request } from 'undici';
import { silentLogger } from '../../api/logger.js';
import { certificateNotAfter, generateCa, generateServingCert, serviceDnsNames } from '../../operator/certs/generate.js';
import { DEFAULT_INJECTION_SETTINGS } from '../../operator/inject/settings.js';
import { createOperatorMetrics, reconcileErrorReason, type OperatorMetrics } from '../../operator/metrics.js';
import { createWebhookServer, type WebhookServer } from '../../operator/webhook/server.js';
import { CASES } from '../support/fixtures/deployments.js';

/** The value of one sample line, e.g. `name{label="x"}`; undefined when the series is absent. */
async function sample(metrics: OperatorMetrics, series: string): Promise<number | undefined> {
  const line = (await metrics.text()).split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('webhook metrics, through the real webhook server', () => {
  const metrics = createOperatorMetrics();
  const context = { settings: DEFAULT_INJECTION_SETTINGS, kubeVersion: 'v1.30.0' };
  let server: WebhookServer;
  let client: Agent;
  let url: string;
  let failing = false;

  beforeAll(async () => {
    const cert = await generateServingCert(await generateCa('test-ca'), serviceDnsNames('badgateway-webhook', 'badgateway-system'));
    metrics.setCertificateExpiry(certificateNotAfter(cert.certPem));
    server = createWebhookServer({
      tls: { key: cert.keyPem, cert: cert.certPem },
      // Settings that cannot be read make the review fail inside the operator: allowed unchanged, counted as an error.
      resolveContext: async () => (failing ? { kubeVersion: 'v1.30.0', get settings(): never { throw new Error('settings unavailable'); } } : context),
      fallbackContext: () => context,
      logger: silentLogger(),
      onReview: (outcome) => metrics.observeWebhook(outcome),
    });
    url = `https://127.0.0.1:${(await server.listen('127.0.0.1', 0)).port}/mutate`;
    client = new Agent({ connect: { ca: cert.caPem, servername: 'badgateway-webhook.badgateway-system.svc' } });
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });

  const post = async (body: string) => {
    const response = await request(url, { method: 'POST', dispatcher: client, headers: { 'content-type': 'application/json' }, body });
    await response.body.dump();
    return response.statusCode;
  };
  const review = (object: unknown) => JSON.stringify({
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: { uid: 'uid-1', kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, operation: 'CREATE', namespace: 'shop', object },
  });

  it('counts patched, unchanged and malformed reviews, and times each', async () => {
    expect(await sample(metrics, 'badgateway_operator_webhook_requests_total{result="patched"}')).toBe(0);
    expect(await post(review(CASES['named-http-port']))).toBe(200);
    expect(await post(review(CASES['named-http-port']))).toBe(200);
    expect(await post(review(CASES['not-annotated']))).toBe(200);
    expect(await post('{"kind":')).toBe(400);
    expect(await post(JSON.stringify({ kind: 'AdmissionReview' }))).toBe(400);
    expect(await sample(metrics, 'badgateway_operator_webhook_requests_total{result="patched"}')).toBe(2);
    expect(await sample(metrics, 'badgateway_operator_webhook_requests_total{result="unchanged"}')).toBe(1);
    expect(await sample(metrics, 'badgateway_operator_webhook_requests_total{result="malformed"}')).toBe(2);
    expect(await sample(metrics, 'badgateway_operator_webhook_duration_seconds_count')).toBe(5);
  });

  it('counts a review that failed inside the operator as an error', async () => {
    const before = await sample(metrics, 'badgateway_operator_webhook_requests_total{result="error"}');
    failing = true;
    const status = await post(review(CASES['named-http-port']));
    failing = false;
    expect(status).toBe(200);
    expect(await sample(metrics, 'badgateway_operator_webhook_requests_total{result="error"}')).toBe((before ?? 0) + 1);
  });

  it('exports the serving certificate expiry as a Unix timestamp', async () => {
    const expiry = await sample(metrics, 'badgateway_operator_webhook_certificate_expiry_timestamp_seconds');
    expect(expiry).toBeGreaterThan(Date.now() / 1000 + 300 * 86_400);
  });
});

describe('controller metrics', () => {
  it('labels reconcile errors by a bounded reason from the API status code', async () => {
    const metrics = createOperatorMetrics();
    metrics.observeReconcile({ durationMs: 3, error: Object.assign(new Error('conflict'), { code: 409 }) });
    metrics.observeReconcile({ durationMs: 3, error: Object.assign(new Error('down'), { code: 503 }) });
    metrics.observeReconcile({ durationMs: 3, error: new Error('socket hang up') });
    metrics.observeReconcile({ durationMs: 3 });
    expect(await sample(metrics, 'badgateway_operator_reconcile_errors_total{reason="conflict"}')).toBe(1);
    expect(await sample(metrics, 'badgateway_operator_reconcile_errors_total{reason="server-error"}')).toBe(1);
    expect(await sample(metrics, 'badgateway_operator_reconcile_errors_total{reason="other"}')).toBe(1);
    expect(await sample(metrics, 'badgateway_operator_reconciles_total{result="success"}')).toBe(1);
    expect([403, 404, 422, 429, 400].map((code) => reconcileErrorReason({ code }))).toEqual(['forbidden', 'not-found', 'invalid', 'throttled', 'other']);
  });

  it('counts policies by condition and status at scrape time', async () => {
    const metrics = createOperatorMetrics();
    let policies = [
      { conditions: [{ type: 'Ready', status: 'True' }, { type: 'Degraded', status: 'False' }] },
      { conditions: [{ type: 'Ready', status: 'False' }, { type: 'Degraded', status: 'True' }] },
      { conditions: [{ type: 'Ready', status: 'True' }] },
      {},
    ];
    metrics.setPolicies(() => policies);
    expect(await sample(metrics, 'badgateway_operator_policies{condition="Ready",status="True"}')).toBe(2);
    expect(await sample(metrics, 'badgateway_operator_policies{condition="Ready",status="False"}')).toBe(1);
    expect(await sample(metrics, 'badgateway_operator_policies{condition="Degraded",status="True"}')).toBe(1);
    policies = [{ conditions: [{ type: 'Ready', status: 'True' }] }];
    expect(await sample(metrics, 'badgateway_operator_policies{condition="Ready",status="False"}')).toBeUndefined();
    expect(await sample(metrics, 'badgateway_operator_policies{condition="Ready",status="True"}')).toBe(1);
  });
});

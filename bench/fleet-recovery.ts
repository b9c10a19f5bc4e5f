/**
 * The apiserver restarted under the fleet: kube-apiserver alone is stopped (SIGTERM) and started
 * again on the same etcd while the operator runs. Measured: how long it was away; whether the
 * operator's webhook answered from its cache meanwhile (reviews sent to it directly, as the
 * apiserver sends them); the operator's LIST requests since the restart (relists: 0 when every
 * watch resumed from its resourceVersion) and all its requests; whether it kept the Lease; and the
 * time from the apiserver's return until a policy changed at that moment shows the change as
 * reconciled and Ready in its status.
 */
import { request } from 'node:https';
import { API_GROUP, API_VERSION, POLICY_PLURAL, configMapNameFor } from '../api/names.js';
import type { ApiTarget } from '../test/cluster/api-request.js';
import { getJson, mergePatch, must, type FleetCluster } from './fleet-cluster.ts';
import { sum } from './fleet-metrics.ts';
import { deploymentManifest, type FleetDeployment } from './fleet-objects.ts';
import { FLOW_SCHEMAS, type FleetOperator } from './fleet-operator.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

export interface RecoveryInput {
  cluster: FleetCluster & { restartApiserver(): Promise<void> };
  operator: FleetOperator;
  webhook: { port: number; caPem: string };
  /** A policy and the opted-in Deployment it claims by targetRef. */
  policy: { namespace: string; name: string; target: FleetDeployment };
  timeoutMs: number;
}

/** One admission review sent to the webhook directly: true when it answered with this policy's sidecar. */
function reviewAnswered(webhook: RecoveryInput['webhook'], policy: RecoveryInput['policy']): Promise<boolean> {
  const review = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
    request: {
      uid: `recovery-${Date.now()}`, kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' }, operation: 'CREATE',
      namespace: policy.namespace, object: deploymentManifest(policy.target),
    },
  });
  return new Promise((resolveAnswer) => {
    const sent = request(`https://localhost:${webhook.port}/mutate`, {
      method: 'POST', ca: webhook.caPem, timeout: 5_000,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(review) },
    }, (answer) => {
      let text = '';
      answer.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      answer.on('end', () => {
        const patch = (JSON.parse(text) as { response?: { patch?: string } }).response?.patch;
        resolveAnswer(answer.statusCode === 200 && patch !== undefined && Buffer.from(patch, 'base64').toString().includes(configMapNameFor(policy.name)));
      });
    });
    sent.on('timeout', () => sent.destroy());
    sent.on('error', () => resolveAnswer(false));
    sent.end(review);
  });
}

/** Reviews sent to the webhook and leader samples taken until `stop` is called. */
function probe(input: RecoveryInput): { stop(): Promise<{ reviews: number; answered: number; leaderLost: boolean }> } {
  let running = true;
  let reviews = 0;
  let answered = 0;
  let leaderLost = false;
  const loop = (async () => {
    while (running) {
      reviews += 1;
      if (await reviewAnswered(input.webhook, input.policy)) answered += 1;
      const leading = await input.operator.metrics().then((text) => sum(text, 'badgateway_operator_leader'), () => 0);
      if (leading !== 1) leaderLost = true;
      await sleep(200);
    }
  })();
  return { stop: async () => { running = false; await loop; return { reviews, answered, leaderLost }; } };
}

interface PolicyStatusView { metadata: { generation: number }; status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> } }

async function patchedAndReady(target: ApiTarget, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const policy = await getJson<PolicyStatusView>(target, path).catch(() => undefined);
    const ready = policy?.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') === true;
    if (policy !== undefined && policy.status?.observedGeneration === policy.metadata.generation && ready) return;
    if (Date.now() > deadline) throw new Error(`${path}: the change made after the apiserver restart not in its status within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

export async function restartUnderFleet(input: RecoveryInput, operatorSettled: () => Promise<void>): Promise<Record<string, number>> {
  const { cluster, policy } = input;
  const prober = probe(input);
  const restarted = performance.now();
  await cluster.restartApiserver();
  const back = performance.now();
  const probed = await prober.stop();

  // A change made the moment the apiserver is back: the status tells the truth once the operator's watch saw it.
  const path = `/apis/${API_GROUP}/${API_VERSION}/namespaces/${policy.namespace}/${POLICY_PLURAL}/${policy.name}`;
  await mergePatch(cluster.target, path, { spec: { timeouts: { response: '7s' } } });
  await patchedAndReady(cluster.target, path, input.timeoutMs);
  const truthful = performance.now();
  await operatorSettled();

  // The apiserver's counters started with its new process: they hold what came since the restart.
  const metrics = (await must(cluster.target, 'GET', '/metrics', undefined, [200])).body;
  const dispatched = (schema: string): number => sum(metrics, 'apiserver_flowcontrol_dispatched_requests_total', { flow_schema: schema });
  return {
    apiserver_down_ms: Math.round(back - restarted),
    webhook_reviews_during_restart: probed.reviews,
    webhook_answered_during_restart: probed.answered,
    leader_lost_during_restart: probed.leaderLost ? 1 : 0,
    status_truthful_ms: Math.round(truthful - back),
    relists_after_restart: dispatched(FLOW_SCHEMAS.list),
    requests_after_restart: dispatched(FLOW_SCHEMAS.list) + dispatched(FLOW_SCHEMAS.other),
  };
}

/* eslint-disable @typescript-eslint/no-explicit-any -- custom objects come back as untyped JSON */
/**
 * Ready in the reconcile that stamps the target, on the real control plane with the operator's
 * webhook in the apiserver's admission path: the stamp's patch answers with the Deployment as the
 * webhook re-injected it, and the controller judges the target from that answer instead of waiting
 * for a second reconcile to find the same object in its cache. Every status the policy goes
 * through is read from a watch that starts at the policy's creation, so none is missed. With the
 * webhook down the answer shows no re-injection, and Ready stays False: it comes only from what
 * the apiserver returned.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Watch, type V1Deployment } from '@kubernetes/client-node';
import { ANNOTATIONS } from '../../../api/names.js';
import type { PolicyController } from '../../../operator/controller/index.js';
import { targetState } from '../../../operator/controller/target-state.js';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../../operator/kube/clients.js';
import { eventually } from '../../support/cli.js';
import { CLUSTER_START_TIMEOUT_MS, sharedCluster, type Cluster } from '../../support/cluster.js';
import { createNamespace, deleteNamespace } from '../../support/cluster-objects.js';
import { installOperatorIdentity, type OperatorIdentity } from '../../support/cluster-operator.js';
import { startClusterWebhook, type ClusterWebhook } from '../../support/cluster-webhook.js';
import { ensurePolicyCrd } from '../../support/policy-crd.js';
import { condition, deployment, policy, policyGroup, startRecordingController } from './harness.js';

jest.setTimeout(90_000);

let cluster: Cluster;
let operatorNamespace: string;
let shop: string;
let operator: OperatorIdentity;
let webhook: ClusterWebhook;
let clients: KubeClients;
let controller: PolicyController | undefined;
const reconciles: string[] = [];
const failures: string[] = [];

beforeAll(async () => {
  cluster = await sharedCluster();
  await ensurePolicyCrd(cluster);
  clients = createKubeClients(loadKubeConfig(cluster.kubeconfigPath));
}, CLUSTER_START_TIMEOUT_MS);

beforeEach(async () => {
  operatorNamespace = await createNamespace(cluster, 'bgw-one-pass');
  shop = await createNamespace(cluster, 'shop');
  operator = await installOperatorIdentity(cluster, operatorNamespace, ['--set', `operator.watchNamespace=${shop}`]);
  webhook = await startClusterWebhook(cluster, { operatorNamespace, watchNamespace: shop, kubeconfigPath: operator.kubeconfigPath });
  reconciles.length = 0;
  failures.length = 0;
});

afterEach(async () => {
  await controller?.close();
  controller = undefined;
  await webhook.close();
  await operator.remove();
  await deleteNamespace(cluster, shop);
  await deleteNamespace(cluster, operatorNamespace);
});

const startController = async (): Promise<PolicyController> => {
  controller = await startRecordingController(createKubeClients(loadKubeConfig(operator.kubeconfigPath)), reconciles, failures, { namespace: shop });
  return controller;
};

/** An opted-in Deployment created through the webhook: its sidecar runs on defaults, no policy applies yet. */
async function createInjected(name: string): Promise<V1Deployment> {
  const body = deployment(name, { app: name }, { namespace: shop, annotated: true });
  let created: V1Deployment | undefined;
  // The apiserver reads webhook configurations through an informer: the first create may pass before it has this one.
  await eventually(async () => {
    await clients.apps.deleteNamespacedDeployment({ name, namespace: shop }).catch(() => undefined);
    created = await clients.apps.createNamespacedDeployment({ namespace: shop, body });
    return targetState(created, name) === 'not-configured';
  }, 20_000, () => `${name} admitted with the sidecar on defaults (last: ${JSON.stringify(created?.spec?.template.spec?.initContainers?.map((container) => container.name))})`);
  return created!;
}

/** Creates the policy and follows its Ready condition from that moment on: `status reason`, each change once. */
async function createFollowed(name: string, spec: Record<string, unknown>): Promise<{ seen: string[]; stop(): void }> {
  const created = await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: shop, body: policy(name, spec, shop) }) as any;
  const seen: string[] = [];
  const watching = await new Watch(clients.config).watch(
    `/apis/${policyGroup.group}/${policyGroup.version}/namespaces/${shop}/${policyGroup.plural}`,
    { resourceVersion: created.metadata.resourceVersion, fieldSelector: `metadata.name=${name}` },
    (_phase, object) => {
      const ready = condition(object, 'Ready');
      const text = ready === undefined ? undefined : `${ready.status} ${ready.reason}`;
      if (text !== undefined && seen.at(-1) !== text) seen.push(text);
    },
    () => undefined,
  );
  return { seen, stop: () => watching.abort() };
}

const stored = (name: string): Promise<V1Deployment> => clients.apps.readNamespacedDeployment({ name, namespace: shop });

describe('Ready in the reconcile that stamps the target (real apiserver and webhook)', () => {
  it('goes straight to Ready=True: the first status written already judges the re-injected Deployment the patch answered with', async () => {
    await createInjected('web');
    const running = await startController();
    const history = await createFollowed('web', { targetRef: { kind: 'Deployment', name: 'web' } });
    try {
      await eventually(() => history.seen.includes('True Rendered'), 30_000, () => `Ready=True (seen: ${history.seen.join(', ')})`);
      // The watch brings the re-injected Deployment (and the status write) back: they re-queue the
      // policy, and that reconcile finds nothing to change.
      await eventually(() => reconciles.filter((key) => key === `${shop}/web`).length >= 2, 30_000, 'the re-queued reconcile');
      await running.idle();
      expect(history.seen).toEqual(['True Rendered']);
      expect(failures).toEqual([]);
    } finally {
      history.stop();
    }
    const web = await stored('web');
    expect(web.spec?.template.metadata?.annotations?.[ANNOTATIONS.policyHash]).toBeDefined();
    expect(targetState(web, 'web')).toBe('configured');
  });

  it('stays TargetsNotConfigured when the stamp passed the apiserver without the webhook (down, failurePolicy Ignore)', async () => {
    await createInjected('web');
    await webhook.stop();
    const running = await startController();
    const history = await createFollowed('web', { targetRef: { kind: 'Deployment', name: 'web' } });
    try {
      await eventually(() => history.seen.includes('False TargetsNotConfigured'), 30_000, () => `TargetsNotConfigured (seen: ${history.seen.join(', ')})`);
      await eventually(() => reconciles.filter((key) => key === `${shop}/web`).length >= 2, 30_000, 'the re-queued reconcile');
      await running.idle();
      expect(history.seen).toEqual(['False TargetsNotConfigured']);
    } finally {
      history.stop();
    }
    const web = await stored('web');
    expect(web.spec?.template.metadata?.annotations?.[ANNOTATIONS.policyHash]).toBeDefined();
    expect(targetState(web, 'web')).toBe('not-configured');
  });
});

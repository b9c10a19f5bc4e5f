/**
 * What a Deployment's updates cost its policy, on the real control plane: the controller-manager
 * writes a rollout's progress into the status (replicas, conditions, observedGeneration) while kwok
 * makes the pods Ready. The reconcile reads no Deployment status (the cache keeps none: the policy's
 * status counts pod templates, not pods), so only the rollout's spec change reconciles the policy;
 * the status writes and a managedFields-only apply do not. An annotation does once: the apiserver
 * bumps a Deployment's generation for any annotation change (they are copied to its ReplicaSets).
 *
 * The test's own watch counts the Deployment's updates that left its spec as it was, so a run in
 * which none happened fails instead of passing. A second policy is the clock: its Deployment's
 * label change comes through the controller's watch after every event before it, so once that
 * policy was reconciled and the queue is dry, a re-queue caused by the earlier events has run too.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import type { PolicyController } from '../../../operator/controller/index.js';
import { eventually } from '../../support/cli.js';
import { CLUSTER_START_TIMEOUT_MS } from '../../support/cluster.js';
import { startClusterHarness, type ClusterHarness } from './cluster-harness.js';
import { deployment, getPolicy, policy, policyGroup } from './harness.js';

jest.setTimeout(120_000);

const REPLICAS = 2;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
let h: ClusterHarness;
let controller: PolicyController;
let watched: { stop(): Promise<void> } | undefined;
/** The web Deployment's updates that kept its generation (status, metadata): counted by the test's own watch. */
let sameGenerationUpdates = 0;
let ticks = 0;
/** The clock's last tick the test's own watch has seen. */
let watchedTick = 0;

const key = (name: string): string => `${h.namespace}/${name}`;
const reconcilesOf = (name: string): number => h.reconciles.filter((entry) => entry === key(name)).length;

async function rolledOut(): Promise<boolean> {
  const web = await h.clients.apps.readNamespacedDeployment({ namespace: h.namespace, name: 'web' });
  const status = web.status ?? {};
  return status.observedGeneration === web.metadata?.generation
    && [status.replicas, status.updatedReplicas, status.readyReplicas, status.availableReplicas].every((count) => count === REPLICAS);
}

/** The clock: once its policy's reconcile ran and the queue is dry, every event before it was handled. */
async function afterEverythingBefore(): Promise<void> {
  ticks += 1;
  const before = reconcilesOf('clock');
  await h.clients.apps.patchNamespacedDeployment({ namespace: h.namespace, name: 'clock', body: { metadata: { labels: { tick: String(ticks) } } } }, mergePatch);
  await eventually(() => reconcilesOf('clock') > before && watchedTick === ticks, 30_000, `the clock policy reconciled, and the tick watched, after tick ${ticks}`);
  await controller.idle();
}

/** Counts the web Deployment's updates whose generation did not move, and notes the clock's tick. */
function countSameGenerationUpdates(): { stop(): Promise<void> } {
  const informer = h.clients.informer<V1Deployment>(
    `/apis/apps/v1/namespaces/${h.namespace}/deployments`,
    () => h.clients.apps.listNamespacedDeployment({ namespace: h.namespace }),
  );
  const generations = new Map<string, number | undefined>();
  for (const event of ['add', 'update'] as const) {
    informer.on(event, (object) => {
      const name = object.metadata?.name ?? '';
      if (event === 'update' && name === 'web' && generations.get(name) === object.metadata?.generation) sameGenerationUpdates += 1;
      if (name === 'clock') watchedTick = Number(object.metadata?.labels?.tick ?? 0);
      generations.set(name, object.metadata?.generation);
    });
  }
  void informer.start();
  return { stop: () => informer.stop() };
}

beforeAll(async () => {
  h = await startClusterHarness('status-requeue');
  const { clients, namespace } = h;
  for (const [name, replicas] of [['web', REPLICAS], ['clock', 0]] as const) {
    const body = deployment(name, { app: name }, { namespace });
    await clients.apps.createNamespacedDeployment({ namespace, body: { ...body, spec: { ...body.spec!, replicas } } });
  }
  controller = await h.start();
  for (const name of ['web', 'clock']) {
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace, body: policy(name, { targetRef: { name } }, namespace) });
  }
  for (const name of ['web', 'clock']) {
    await eventually(async () => ((await getPolicy(clients, name, namespace)).status?.targets ?? []).length === 1, 30_000, `${name} reconciled with its target`);
  }
  await eventually(rolledOut, 90_000, 'web rolled out');
  watched = countSameGenerationUpdates();
  await afterEverythingBefore();
}, CLUSTER_START_TIMEOUT_MS);

afterAll(async () => {
  await watched?.stop();
  await h?.close();
});

describe('a Deployment\'s status writes do not re-queue its policy', () => {
  it('a rollout reconciles the policy once, for its spec change, and not for the controller-manager\'s status writes', async () => {
    h.reconciles.length = 0;
    const updatesBefore = sameGenerationUpdates;
    await h.clients.apps.patchNamespacedDeployment({ namespace: h.namespace, name: 'web', body: { spec: { template: { metadata: { annotations: { 'example.com/rollout': '1' } } } } } }, mergePatch);
    await eventually(rolledOut, 90_000, 'web rolled out again');
    await afterEverythingBefore();
    const statusWrites = sameGenerationUpdates - updatesBefore;
    expect(statusWrites).toBeGreaterThanOrEqual(2);
    expect({ statusWrites, reconciles: reconcilesOf('web') }).toEqual({ statusWrites, reconciles: 1 });
    expect(h.failures).toEqual([]);
  });

  it('a status-only write and a managedFields-only apply reconcile nothing', async () => {
    h.reconciles.length = 0;
    const updatesBefore = sameGenerationUpdates;
    const { clients, namespace } = h;
    // A status the controller-manager puts right again: two status-only updates.
    await clients.apps.patchNamespacedDeploymentStatus({ namespace, name: 'web', body: { status: { readyReplicas: 1, availableReplicas: 1 } } }, mergePatch);
    await eventually(rolledOut, 30_000, 'web\'s status put right by the controller-manager');
    // The same replica count applied by another field manager: only managedFields and resourceVersion change.
    await clients.apps.patchNamespacedDeployment(
      { namespace, name: 'web', fieldManager: 'another-team', force: true, body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace }, spec: { replicas: REPLICAS } } },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    );
    await afterEverythingBefore();
    const updates = sameGenerationUpdates - updatesBefore;
    expect(updates).toBeGreaterThanOrEqual(3);
    expect({ updates, reconciles: reconcilesOf('web') }).toEqual({ updates, reconciles: 0 });
    expect(h.failures).toEqual([]);
  });

  it('an annotation the operator does not read costs one reconcile: kube-apiserver gives the Deployment a new generation for it', async () => {
    h.reconciles.length = 0;
    const { clients, namespace } = h;
    const before = (await clients.apps.readNamespacedDeployment({ namespace, name: 'web' })).metadata?.generation ?? 0;
    await clients.apps.patchNamespacedDeployment({ namespace, name: 'web', body: { metadata: { annotations: { 'example.com/owner': 'team-a' } } } }, mergePatch);
    await afterEverythingBefore();
    expect((await clients.apps.readNamespacedDeployment({ namespace, name: 'web' })).metadata?.generation).toBe(before + 1);
    expect(reconcilesOf('web')).toBe(1);
  });
});

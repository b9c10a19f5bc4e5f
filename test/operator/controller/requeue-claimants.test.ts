/* eslint-disable @typescript-eslint/no-explicit-any -- custom objects come back as untyped JSON */
/**
 * A Deployment's change re-queues only the policies that claim it (or claimed it until the change),
 * on the real control plane: the other policies of its namespace are not reconciled. The recording
 * controller logs every reconcile's key; the change's reconcile and the queue running dry are
 * events the test waits for, so an extra reconcile would have run by the time it looks.
 */
import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { eventually } from '../../support/cli.js';
import { CLUSTER_START_TIMEOUT_MS, sharedCluster } from '../../support/cluster.js';
import type { PolicyController } from '../../../operator/controller/index.js';
import { startClusterHarness, type ClusterHarness } from './cluster-harness.js';
import { deployment, getPolicy, policy, policyGroup } from './harness.js';

jest.setTimeout(90_000);

let harness: ClusterHarness | undefined;
beforeAll(async () => { await sharedCluster(); }, CLUSTER_START_TIMEOUT_MS);
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const targetNames = async (h: ClusterHarness, name: string): Promise<string[]> =>
  ((await getPolicy(h.clients, name, h.namespace)).status?.targets ?? []).map((target: any) => target.name);

/** Three Deployments and the given policies, every policy reconciled with its target and the queue dry; the log cleared. */
async function settledWith(h: ClusterHarness, spec: Record<string, Record<string, unknown>>): Promise<PolicyController> {
  const { clients, namespace } = h;
  for (const name of ['one', 'two', 'three']) {
    await clients.apps.createNamespacedDeployment({ namespace, body: deployment(name, { app: name }, { namespace }) });
  }
  const controller = await h.start();
  for (const [name, claim] of Object.entries(spec)) {
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace, body: policy(name, claim, namespace) });
  }
  for (const name of Object.keys(spec)) {
    await eventually(async () => (await targetNames(h, name)).length === 1, 30_000, `${name} reconciled with its target`);
  }
  await controller.idle();
  h.reconciles.length = 0;
  return controller;
}

const patchDeployment = (h: ClusterHarness, name: string, body: object): Promise<unknown> =>
  h.clients.apps.patchNamespacedDeployment({ name, namespace: h.namespace, body }, mergePatch);

describe('a Deployment change re-queues its claimants only', () => {
  it('reconciles the policies of the changed Deployments and leaves their namespace\'s other policy alone', async () => {
    harness = await startClusterHarness('claimants');
    const h = harness;
    const controller = await settledWith(h, {
      'by-ref': { targetRef: { name: 'one' } }, 'by-selector': { selector: { matchLabels: { app: 'two' } } }, bystander: { targetRef: { name: 'three' } },
    });

    // A rollout of each claimed Deployment: a new template annotation, a new generation.
    for (const name of ['one', 'two']) await patchDeployment(h, name, { spec: { template: { metadata: { annotations: { 'example.com/rollout': '1' } } } } });
    const key = (name: string): string => `${h.namespace}/${name}`;
    await eventually(() => h.reconciles.includes(key('by-ref')) && h.reconciles.includes(key('by-selector')), 30_000, () => `both claimants reconciled (so far: ${h.reconciles.join(', ')})`);
    await controller.idle();
    expect(h.reconciles).not.toContain(key('bystander'));
    expect(h.failures).toEqual([]);
  });

  it('re-queues the policy a Deployment stops matching, which lets it go', async () => {
    harness = await startClusterHarness('claimants');
    const h = harness;
    const untiered = { matchLabels: { app: 'one' }, matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] };
    const controller = await settledWith(h, { 'by-selector': { selector: untiered }, bystander: { targetRef: { name: 'three' } } });

    // A label joins the pod template: the selector policy claims the Deployment no longer.
    await patchDeployment(h, 'one', { spec: { template: { metadata: { labels: { tier: 'web' } } } } });
    await eventually(async () => (await targetNames(h, 'by-selector')).length === 0, 30_000, 'the selector policy let the Deployment go');
    await controller.idle();
    expect(h.reconciles).not.toContain(`${h.namespace}/bystander`);
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any -- custom objects and events come back as untyped JSON */
/**
 * Two operator replicas electing a leader over a real Lease in kube-apiserver, each running as the
 * chart's ServiceAccount (so only the chart's Lease name is theirs to get and update), watching the
 * test's own namespace.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { V1MicroTime } from '@kubernetes/client-node';
import { silentLogger } from '../../../api/logger.js';
import { DEFAULT_INJECTION_SETTINGS } from '../../../operator/inject/settings.js';
import type { KubeClients } from '../../../operator/kube/clients.js';
import { runOperator, type RunningOperator } from '../../../operator/run-operator.js';
import { eventually } from '../../support/cli.js';
import { CLUSTER_START_TIMEOUT_MS, sharedCluster } from '../../support/cluster.js';
import { startClusterHarness, type ClusterHarness } from '../controller/cluster-harness.js';

jest.setTimeout(60_000);

let harness: ClusterHarness;
let clients: KubeClients;
const running: RunningOperator[] = [];
let LEASE: { name: string; namespace: string };
let group: { group: string; version: string; plural: string; namespace: string };

beforeAll(async () => { await sharedCluster(); }, CLUSTER_START_TIMEOUT_MS);
beforeEach(async () => {
  harness = await startClusterHarness('leader');
  clients = harness.clients;
  // The Lease the chart's Role lets the operator get and update, by name.
  const role = harness.operator.rbac.find((object) => object.kind === 'Role') as unknown as { rules: Array<{ resources: string[]; resourceNames?: string[] }> };
  const leaseName = role.rules.find((rule) => rule.resources.includes('leases') && rule.resourceNames !== undefined)?.resourceNames?.[0];
  if (leaseName === undefined) throw new Error('the chart\'s Role names no Lease');
  LEASE = { name: leaseName, namespace: harness.namespace };
  group = { group: 'badgateway.io', version: 'v1alpha1', plural: 'badgatewaypolicies', namespace: harness.namespace };
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((operator) => operator.close()));
  await harness.close();
});

async function start(identity: string): Promise<RunningOperator> {
  const operator = await runOperator({
    clients: harness.operatorClients, identity, logger: silentLogger(), host: '127.0.0.1', metricsPort: 0,
    ownNamespace: LEASE.namespace, watchNamespace: harness.namespace, webhook: false, maxConcurrentReconciles: 2, injection: DEFAULT_INJECTION_SETTINGS,
    leaderElection: { leaseName: LEASE.name, leaseNamespace: LEASE.namespace, leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 200 },
  });
  running.push(operator);
  return operator;
}
const metric = async (operator: RunningOperator, name: string): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`)).text();
  const samples = text.split('\n').filter((line) => line.startsWith(name) && !line.startsWith(`${name}_`));
  return samples.reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
};
const leaderEvents = async (): Promise<any[]> =>
  (await clients.events.listNamespacedEvent({ namespace: LEASE.namespace })).items.filter((event) => event.reason === 'LeaderElected');
const rendered = async (name: string): Promise<string | undefined> =>
  (await clients.core.readNamespacedConfigMap({ name: `badgateway-${name}`, namespace: harness.namespace }).catch(() => undefined))?.data?.['policy.json'];

describe('runOperator with leader election over a real Lease', () => {
  it('one leader reconciles, records LeaderElected on the Lease, releases the Lease on close, and the follower takes over', async () => {
    const a = await start('replica-a');
    const b = await start('replica-b');
    await eventually(() => a.isLeader() || b.isLeader(), 20_000, 'a leader');
    const [leader, follower, leaderName, followerName] = a.isLeader() ? [a, b, 'replica-a', 'replica-b'] : [b, a, 'replica-b', 'replica-a'];

    await clients.custom.createNamespacedCustomObject({ ...group, body: { apiVersion: 'badgateway.io/v1alpha1', kind: 'BadGatewayPolicy', metadata: { name: 'one' }, spec: {} } });
    await eventually(async () => (await rendered('one')) !== undefined, 20_000, 'rendered by the leader');
    await eventually(async () => (await metric(leader, 'badgateway_operator_reconciles_total')) > 0, 20_000, 'leader counted reconciles');
    expect(follower.isLeader()).toBe(false);
    expect(await metric(follower, 'badgateway_operator_reconciles_total')).toBe(0);
    expect(await metric(leader, 'badgateway_operator_leader')).toBe(1);
    expect(await metric(follower, 'badgateway_operator_leader')).toBe(0);
    const exposition = await (await fetch(`http://127.0.0.1:${leader.metricsPort}/metrics`)).text();
    for (const name of ['badgateway_operator_reconcile_errors_total', 'badgateway_operator_reconcile_duration_seconds_bucket', 'badgateway_operator_queue_depth']) {
      expect(exposition).toContain(name);
    }
    for (const path of ['/healthz', '/readyz']) expect((await fetch(`http://127.0.0.1:${follower.metricsPort}${path}`)).status).toBe(200);

    await eventually(async () => (await leaderEvents()).length === 1, 20_000, 'LeaderElected event');
    const [elected] = await leaderEvents();
    expect(elected).toMatchObject({ type: 'Normal', regarding: { kind: 'Lease', name: LEASE.name, namespace: LEASE.namespace } });
    expect(elected.note).toContain(leaderName);

    await leader.close();
    running.splice(running.indexOf(leader), 1);
    const lease = await clients.coordination.readNamespacedLease(LEASE);
    expect([undefined, '', followerName]).toContain(lease.spec?.holderIdentity);
    await eventually(() => follower.isLeader(), 20_000, 'failover');
    await eventually(async () => (await leaderEvents()).some((event) => event.note.includes(followerName)), 20_000, 'second LeaderElected event');

    await clients.custom.createNamespacedCustomObject({ ...group, body: { apiVersion: 'badgateway.io/v1alpha1', kind: 'BadGatewayPolicy', metadata: { name: 'two' }, spec: {} } });
    await eventually(async () => (await rendered('two')) !== undefined, 20_000, 'rendered by the new leader');
  });

  it('stops reconciling as soon as another holder owns the Lease', async () => {
    const only = await start('replica-c');
    await eventually(() => only.isLeader(), 20_000, 'leading');
    await clients.custom.createNamespacedCustomObject({ ...group, body: { apiVersion: 'badgateway.io/v1alpha1', kind: 'BadGatewayPolicy', metadata: { name: 'before' }, spec: {} } });
    await eventually(async () => (await rendered('before')) !== undefined, 20_000, 'reconciling while leading');

    // As another replica would write it (kube-apiserver takes a Lease's times only as MicroTimes), for
    // long; read again on a conflict, as a replica would: the leader renews meanwhile.
    await eventually(async () => {
      const lease = await clients.coordination.readNamespacedLease(LEASE);
      const acquired = lease.spec?.acquireTime === undefined ? {} : { acquireTime: new V1MicroTime(new Date(lease.spec.acquireTime).getTime()) };
      try {
        await clients.coordination.replaceNamespacedLease({ ...LEASE, body: { ...lease, spec: { ...lease.spec, ...acquired, holderIdentity: 'replica-d', leaseDurationSeconds: 600, renewTime: new V1MicroTime(Date.now()) } } });
        return true;
      } catch (error) {
        if ((error as { code?: number }).code === 409) return false;
        throw error;
      }
    }, 20_000, 'the Lease taken over by replica-d');
    await eventually(() => !only.isLeader(), 20_000, 'stepped down');
    expect(await metric(only, 'badgateway_operator_leader')).toBe(0);
    // A reconcile already in flight when the Lease changed hands may still finish; none may start.
    await only.controllerStopped();
    const reconciled = await metric(only, 'badgateway_operator_reconciles_total');

    await clients.custom.createNamespacedCustomObject({ ...group, body: { apiVersion: 'badgateway.io/v1alpha1', kind: 'BadGatewayPolicy', metadata: { name: 'after' }, spec: {} } });
    // The witness: the Lease's holder starts only now, finds itself holding it, and renders the new
    // policy; a stepped-down replica still reconciling would have seen it first.
    const holder = await start('replica-d');
    await eventually(async () => (await rendered('after')) !== undefined, 20_000, 'rendered by the holder');
    expect(holder.isLeader()).toBe(true);
    expect(await metric(holder, 'badgateway_operator_reconciles_total')).toBeGreaterThan(0);
    expect(await metric(only, 'badgateway_operator_reconciles_total')).toBe(reconciled);
    expect(only.isLeader()).toBe(false);
  });
});

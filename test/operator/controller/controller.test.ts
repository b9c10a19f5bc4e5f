/* eslint-disable @typescript-eslint/no-explicit-any -- custom objects come back as untyped JSON */
/**
 * The controller on the real control plane, as the chart's ServiceAccount in a namespace of its own;
 * the faults only a fake can stage on demand (500s, dropped watches, 410 Gone) on the test API server.
 */
import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { silentLogger } from '../../../api/logger.js';
import { startController, type PolicyController } from '../../../operator/controller/index.js';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../../operator/kube/clients.js';
import { installPolicyCrd } from '../../support/policy-crd.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver/index.js';
import { eventually } from '../../support/cli.js';
import { CLUSTER_START_TIMEOUT_MS, sharedCluster } from '../../support/cluster.js';
import { startClusterHarness, type ClusterHarness } from './cluster-harness.js';

jest.setTimeout(60_000);

let server: TestApiServer | undefined;
let harness: ClusterHarness | undefined;
let clients: KubeClients;
let controller: PolicyController | undefined;
let namespace = 'default';
const group = () => ({ group: 'badgateway.io', version: 'v1alpha1', plural: 'badgatewaypolicies', namespace });

beforeAll(async () => { await sharedCluster(); }, CLUSTER_START_TIMEOUT_MS);
afterEach(async () => {
  await controller?.close();
  controller = undefined;
  await harness?.close();
  await server?.close();
  harness = undefined;
  server = undefined;
});

async function onCluster(): Promise<void> {
  harness = await startClusterHarness();
  clients = harness.clients;
  namespace = harness.namespace;
}

async function onTestApiServer(): Promise<TestApiServer> {
  server = await startTestApiServer();
  clients = createKubeClients(loadKubeConfig(server.kubeconfigPath));
  namespace = 'default';
  await installPolicyCrd(server);
  return server;
}

const start = async (): Promise<void> => {
  if (harness !== undefined) {
    controller = await harness.start({ resyncPeriodMs: 2_000 });
    return;
  }
  controller = await startController({ clients, logger: silentLogger(), informerRestartDelayMs: 100, retryBaseDelayMs: 50, retryMaxDelayMs: 500, resyncPeriodMs: 2_000 });
};
const policy = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'badgateway.io/v1alpha1', kind: 'BadGatewayPolicy', metadata: { name }, spec });
const getPolicy = (name: string): Promise<any> => clients.custom.getNamespacedCustomObject({ ...group(), name });
const readConfig = async (name: string): Promise<any> => {
  try {
    const configMap = await clients.core.readNamespacedConfigMap({ name: `badgateway-${name}`, namespace });
    return JSON.parse(configMap.data?.['policy.json'] ?? 'null');
  } catch {
    return undefined;
  }
};
const condition = (object: any, type: string): any => object.status?.conditions?.find((item: any) => item.type === type);
const deployment = (name: string, labels: Record<string, string>) => ({
  metadata: { name, namespace },
  spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'app:1', ports: [{ containerPort: 8080, name: 'http' }] }] } } },
});

describe('policy controller', () => {
  it('renders the ConfigMap, follows spec changes, keeps the last good one on an invalid spec', async () => {
    await onCluster();
    await start();
    await clients.custom.createNamespacedCustomObject({ ...group(), body: policy('web', { timeouts: { response: '5s' } }) });
    await eventually(async () => (await readConfig('web'))?.timeouts?.response === '5s', 20_000, 'ConfigMap rendered');
    await eventually(async () => {
      const current = await getPolicy('web');
      return condition(current, 'Accepted')?.status === 'True' && current.status.observedGeneration === current.metadata.generation;
    }, 20_000, 'Accepted');
    // Rendered, but in effect nowhere: a policy without targets is not Ready.
    expect(condition(await getPolicy('web'), 'Ready')).toMatchObject({ status: 'False', reason: 'NoTargets' });
    const configMap = await clients.core.readNamespacedConfigMap({ name: 'badgateway-web', namespace });
    expect(configMap.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'BadGatewayPolicy', name: 'web', controller: true });

    const current = await getPolicy('web');
    await clients.custom.replaceNamespacedCustomObject({ ...group(), name: 'web', body: { ...current, spec: { timeouts: { response: '7s' } } } });
    await eventually(async () => (await readConfig('web'))?.timeouts?.response === '7s', 20_000, 'ConfigMap updated');
    await eventually(async () => {
      const after = await getPolicy('web');
      return after.status.observedGeneration === after.metadata.generation && after.metadata.generation > current.metadata.generation;
    }, 20_000, 'generation followed');

    const again = await getPolicy('web');
    await clients.custom.replaceNamespacedCustomObject({ ...group(), name: 'web', body: { ...again, spec: { timeouts: { response: '30s' }, circuitBreaker: { resetTimeout: '1s' } } } });
    await eventually(async () => condition(await getPolicy('web'), 'Accepted')?.status === 'False', 20_000, 'Accepted=False');
    const rejected = await getPolicy('web');
    expect(condition(rejected, 'Accepted').message).toContain('spec.circuitBreaker.resetTimeout');
    expect((await readConfig('web')).timeouts.response).toBe('7s');

    await clients.custom.deleteNamespacedCustomObject({ ...group(), name: 'web' });
    // kube-controller-manager's garbage collector learns a new CRD's resource at its next discovery sync (every 30 s).
    await eventually(async () => (await readConfig('web')) === undefined, 60_000, 'ConfigMap garbage collected');
  }, 120_000);

  it('marks the younger of two policies on one Deployment Conflicted, naming the winner', async () => {
    await onCluster();
    await clients.apps.createNamespacedDeployment({ namespace, body: deployment('shop', { app: 'shop' }) });
    await start();
    await clients.custom.createNamespacedCustomObject({ ...group(), body: policy('first', { targetRef: { name: 'shop' } }) });
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // creationTimestamp has second resolution
    await clients.custom.createNamespacedCustomObject({ ...group(), body: policy('second', { selector: { matchLabels: { app: 'shop' } } }) });
    await eventually(async () => condition(await getPolicy('second'), 'Conflicted')?.status === 'True', 20_000, 'Conflicted');
    expect(condition(await getPolicy('second'), 'Conflicted').message).toContain('first');
    await eventually(async () => {
      const winner = await getPolicy('first');
      return condition(winner, 'Conflicted')?.status === 'False' && winner.status.targets?.[0]?.name === 'shop';
    }, 20_000, 'winner status');
    const shop = await clients.apps.readNamespacedDeployment({ name: 'shop', namespace });
    expect(shop.spec?.template?.metadata?.annotations?.['badgateway.io/policy-hash']).toMatch(/^[0-9a-f]{16}$/);
  });

  it('inlines a configMapRef page, follows its changes, and reports a missing one as a condition', async () => {
    await onCluster();
    await start();
    await clients.custom.createNamespacedCustomObject({ ...group(), body: policy('paged', { errorPages: [{ status: 502, configMapRef: { name: 'pages', key: 'oops.html' } }] }) });
    await eventually(async () => condition(await getPolicy('paged'), 'Accepted')?.reason === 'PageNotFound', 20_000, 'PageNotFound');
    await clients.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'pages' }, data: { 'oops.html': '<h1>v1</h1>' } } });
    await eventually(async () => (await readConfig('paged'))?.errorPages?.[0]?.body === '<h1>v1</h1>', 20_000, 'page inlined');
    await clients.core.replaceNamespacedConfigMap({ name: 'pages', namespace, body: { metadata: { name: 'pages' }, data: { 'oops.html': '<h1>v2</h1>' } } });
    await eventually(async () => (await readConfig('paged'))?.errorPages?.[0]?.body === '<h1>v2</h1>', 20_000, 'page updated');
  });

  it('converges despite 500s, dropped watches and expired resourceVersions (test API server)', async () => {
    const server = await onTestApiServer();
    await start();
    server.faults.failNext(5, 500);
    await clients.custom.createNamespacedCustomObject({ ...group(), body: policy('sturdy', {}) }).catch(() => undefined);
    await eventually(async () => {
      try { await getPolicy('sturdy'); return true; } catch { await clients.custom.createNamespacedCustomObject({ ...group(), body: policy('sturdy', {}) }).catch(() => undefined); return false; }
    }, 20_000, 'policy created');
    server.faults.dropWatches();
    server.faults.expireResourceVersions();
    server.faults.failNext(3, 500);
    await eventually(async () => condition(await getPolicy('sturdy').catch(() => ({})), 'Accepted')?.status === 'True', 30_000, 'Accepted after faults');
    server.faults.dropWatches();
    server.faults.expireResourceVersions();
    const current = await getPolicy('sturdy');
    await clients.custom.replaceNamespacedCustomObject({ ...group(), name: 'sturdy', body: { ...current, spec: { timeouts: { response: '9s' } } } });
    await eventually(async () => (await readConfig('sturdy'))?.timeouts?.response === '9s', 30_000, 'change seen after 410');
  });
});

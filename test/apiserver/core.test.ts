/* eslint-disable @typescript-eslint/no-explicit-any -- custom objects come back as untyped JSON */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { PatchStrategy, setHeaderOptions, type V1ConfigMap } from '@kubernetes/client-node';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../operator/kube/clients.js';
import { apiStatus } from '../../operator/kube/errors.js';
import { installPolicyCrd } from '../support/policy-crd.js';
import { startTestApiServer, type TestApiServer } from '../support/apiserver/index.js';
import { eventually } from '../support/cli.js';

let server: TestApiServer;
let clients: KubeClients;

beforeEach(async () => {
  const started = performance.now();
  server = await startTestApiServer();
  expect(performance.now() - started).toBeLessThan(1000);
  clients = createKubeClients(loadKubeConfig(server.kubeconfigPath));
});
afterEach(async () => {
  await server.close();
});

const configMap = (name: string, data: Record<string, string> = { a: '1' }, labels: Record<string, string> = {}): V1ConfigMap => ({ metadata: { name, labels }, data });
const policyGroup = { group: 'badgateway.io', version: 'v1alpha1', plural: 'badgatewaypolicies' };


describe('test API server through @kubernetes/client-node', () => {
  it('serves discovery and the version', async () => {
    expect((await clients.version.getCode()).gitVersion).toBe('v1.30.0');
  });

  it('creates, gets, lists with label selectors, and refuses duplicates and stale updates', async () => {
    await clients.core.createNamespacedConfigMap({ namespace: 'shop', body: configMap('one', { a: '1' }, { app: 'web', tier: 'front' }) });
    await clients.core.createNamespacedConfigMap({ namespace: 'shop', body: configMap('two', { a: '2' }, { app: 'api' }) });
    const one = await clients.core.readNamespacedConfigMap({ name: 'one', namespace: 'shop' });
    expect(one.metadata).toMatchObject({ name: 'one', namespace: 'shop', uid: expect.any(String), resourceVersion: expect.any(String) });
    const list = await clients.core.listNamespacedConfigMap({ namespace: 'shop', labelSelector: 'app in (web, admin),tier' });
    expect(list.items.map((item) => item.metadata?.name)).toEqual(['one']);
    const byField = await clients.core.listConfigMapForAllNamespaces({ fieldSelector: 'metadata.name=two' });
    expect(byField.items.map((item) => item.metadata?.name)).toEqual(['two']);
    const duplicate = await clients.core.createNamespacedConfigMap({ namespace: 'shop', body: configMap('one') }).catch((error: unknown) => error);
    expect(apiStatus(duplicate)).toBe(409);
    await clients.core.replaceNamespacedConfigMap({ name: 'one', namespace: 'shop', body: { ...one, data: { a: 'new' } } });
    const stale = await clients.core.replaceNamespacedConfigMap({ name: 'one', namespace: 'shop', body: { ...one, data: { a: 'stale' } } }).catch((error: unknown) => error);
    expect(apiStatus(stale)).toBe(409);
    expect(apiStatus(await clients.core.readNamespacedConfigMap({ name: 'nope', namespace: 'shop' }).catch((error: unknown) => error))).toBe(404);
  });

  it('applies merge, JSON and strategic merge patches', async () => {
    await clients.apps.createNamespacedDeployment({ namespace: 'shop', body: {
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'a' }, { name: 'log', image: 'b' }] } } },
    } });
    await clients.apps.patchNamespacedDeployment({ name: 'web', namespace: 'shop', body: { metadata: { annotations: { x: '1' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    await clients.apps.patchNamespacedDeployment({ name: 'web', namespace: 'shop', body: [{ op: 'add', path: '/metadata/labels', value: { team: 'shop' } }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    await clients.apps.patchNamespacedDeployment({ name: 'web', namespace: 'shop', body: { spec: { template: { spec: { containers: [{ name: 'web', image: 'a2' }] } } } } }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    const deployment = await clients.apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    expect(deployment.metadata?.annotations).toEqual({ x: '1' });
    expect(deployment.metadata?.labels).toEqual({ team: 'shop' });
    expect(deployment.spec?.template.spec?.containers.map((container) => `${container.name}=${container.image}`)).toEqual(['web=a2', 'log=b']);
    expect(deployment.metadata?.generation).toBe(2);
  });

  it('serves custom resources from a CRD, validates them like the real server and has a status subresource', async () => {
    await installPolicyCrd(server);
    const created = await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'shop', body: { apiVersion: 'badgateway.io/v1alpha1', kind: 'BadGatewayPolicy', metadata: { name: 'web' }, spec: { unknownField: 1 } } }) as Record<string, any>;
    expect(created.spec.timeouts).toEqual({ connect: '1s', response: '15s', idle: '4s', requestBodyIdle: '60s', responseBodyIdle: '60s' });
    expect(created.spec.unknownField).toBeUndefined();
    const rejected = await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'shop', body: { apiVersion: 'badgateway.io/v1alpha1', kind: 'BadGatewayPolicy', metadata: { name: 'bad' }, spec: { openStatus: 500 } } }).catch((error: { code?: number; body?: string }) => error);
    expect(apiStatus(rejected)).toBe(422);
    expect(String((rejected as { body?: unknown }).body)).toContain('spec.openStatus: Unsupported value: 500: supported values: \\"502\\", \\"503\\"');

    await clients.custom.replaceNamespacedCustomObjectStatus({ ...policyGroup, namespace: 'shop', name: 'web', body: { ...created, spec: { openStatus: 503 }, status: { observedGeneration: 1 } } });
    const afterStatus = await clients.custom.getNamespacedCustomObject({ ...policyGroup, namespace: 'shop', name: 'web' }) as Record<string, any>;
    expect(afterStatus.status).toEqual({ observedGeneration: 1 });
    expect(afterStatus.spec.openStatus).toBe(502); // spec changes are ignored on /status
    expect(afterStatus.metadata.generation).toBe(1);
    await clients.custom.replaceNamespacedCustomObject({ ...policyGroup, namespace: 'shop', name: 'web', body: { ...afterStatus, spec: { ...afterStatus.spec, openStatus: 503 }, status: { observedGeneration: 99 } } });
    const afterSpec = await clients.custom.getNamespacedCustomObject({ ...policyGroup, namespace: 'shop', name: 'web' }) as Record<string, any>;
    expect(afterSpec.metadata.generation).toBe(2);
    expect(afterSpec.status).toEqual({ observedGeneration: 1 }); // status is ignored on the main resource
  });

  it('validates the overload section from the generated CRD: int-or-string limit, exclusive minimum', async () => {
    await installPolicyCrd(server);
    const create = (name: string, overload: unknown) => clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'shop', body: { apiVersion: 'badgateway.io/v1alpha1', kind: 'BadGatewayPolicy', metadata: { name }, spec: { overload } } }) as Promise<Record<string, any>>;
    const fixed = await create('fixed', { mode: 'enforce', limit: 20 });
    expect(fixed.spec.overload).toMatchObject({ mode: 'enforce', limit: 20, queue: { size: 100, timeout: '250ms' } });
    expect((await create('adaptive', {})).spec.overload.limit).toBe('adaptive');
    for (const [name, overload, message] of [
      // The CRD's int-or-string limit is a pattern, the shape kube-apiserver accepts as structural; its words.
      ['word', { limit: 'auto' }, "spec.overload.limit in body should match '^(adaptive)$'"],
      ['zero', { limit: 0 }, 'spec.overload.limit in body should be greater than or equal to 1'],
      ['list', { limit: [1] }, 'spec.overload.limit in body must be of type integer or string'],
      ['smooth', { adaptive: { smoothing: 0 } }, 'spec.overload.adaptive.smoothing in body should be greater than 0'],
    ] as const) {
      const rejected = await create(name, overload).catch((error: unknown) => error);
      expect({ name, status: apiStatus(rejected) }).toEqual({ name, status: 422 });
      expect(String((rejected as { body?: unknown }).body)).toContain(message);
    }
  });

  it('keeps finalized objects until the finalizer goes, and garbage-collects owned objects', async () => {
    const owner = await clients.core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'owner', finalizers: ['test/hold'] } } });
    await clients.core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'owned', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid!, controller: true }] } } });
    await clients.core.deleteNamespacedConfigMap({ name: 'owner', namespace: 'shop' });
    const held = await clients.core.readNamespacedConfigMap({ name: 'owner', namespace: 'shop' });
    expect(held.metadata?.deletionTimestamp).toBeDefined();
    await clients.core.replaceNamespacedConfigMap({ name: 'owner', namespace: 'shop', body: { ...held, metadata: { ...held.metadata, finalizers: [] } } });
    await eventually(async () => apiStatus(await clients.core.readNamespacedConfigMap({ name: 'owned', namespace: 'shop' }).catch((error: unknown) => error)) === 404, 5000, 'cascade');
  });

  it('feeds informers: list, then watch events', async () => {
    await clients.core.createNamespacedConfigMap({ namespace: 'shop', body: configMap('before') });
    const informer = clients.informer('/api/v1/namespaces/shop/configmaps', () => clients.core.listNamespacedConfigMap({ namespace: 'shop' }));
    const seen = new Set<string>();
    informer.on('add', (object) => seen.add(object.metadata!.name!));
    await informer.start();
    await clients.core.createNamespacedConfigMap({ namespace: 'shop', body: configMap('after') });
    await eventually(() => seen.has('before') && seen.has('after'), 5000, 'list and watch adds');
    await informer.stop();
  });

  it('keeps a makeInformer informer whole across dropped watches and a 410 Gone', async () => {
    await clients.core.createNamespacedConfigMap({ namespace: 'shop', body: configMap('first') });
    const informer = clients.informer('/api/v1/namespaces/shop/configmaps', () => clients.core.listNamespacedConfigMap({ namespace: 'shop' }));
    const errors: unknown[] = [];
    // What client-node documents for informers: after an error, start again (it relists).
    informer.on('error', (error) => {
      errors.push(error);
      setTimeout(() => void informer.start().catch(() => undefined), 50).unref();
    });
    await informer.start();
    const names = () => informer.list('shop').map((item) => item.metadata?.name).sort();
    try {
      await eventually(() => names().join() === 'first', 5000, 'initial list');
      server.faults.dropWatches();
      await clients.core.createNamespacedConfigMap({ namespace: 'shop', body: configMap('after-drop') });
      await eventually(() => names().join() === 'after-drop,first', 10_000, 'event after a dropped watch');

      server.faults.expireResourceVersions();
      server.faults.dropWatches();
      await clients.core.deleteNamespacedConfigMap({ name: 'first', namespace: 'shop' });
      await clients.core.createNamespacedConfigMap({ namespace: 'shop', body: configMap('after-gone') });
      await eventually(() => names().join() === 'after-drop,after-gone', 10_000, () => `cache after 410 (have ${names().join()}, errors ${errors.length})`);
    } finally {
      await informer.stop();
    }
  });

  it('reports objects labelled into a selector watch as ADDED and out of it as DELETED', async () => {
    const events: string[] = [];
    const informer = clients.informer('/api/v1/namespaces/shop/configmaps', () => clients.core.listNamespacedConfigMap({ namespace: 'shop', labelSelector: 'owned=yes' }), { labelSelector: 'owned=yes' });
    informer.on('add', (object) => events.push(`add ${object.metadata!.name!}`));
    informer.on('update', (object) => events.push(`update ${object.metadata!.name!}`));
    informer.on('delete', (object) => events.push(`delete ${object.metadata!.name!}`));
    await informer.start();
    try {
      await clients.core.createNamespacedConfigMap({ namespace: 'shop', body: configMap('cm') });
      await clients.core.patchNamespacedConfigMap({ name: 'cm', namespace: 'shop', body: { metadata: { labels: { owned: 'yes' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await clients.core.patchNamespacedConfigMap({ name: 'cm', namespace: 'shop', body: { data: { a: '2' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await clients.core.patchNamespacedConfigMap({ name: 'cm', namespace: 'shop', body: { metadata: { labels: { owned: null } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await clients.core.patchNamespacedConfigMap({ name: 'cm', namespace: 'shop', body: { data: { a: '3' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await eventually(() => events.length >= 3, 5000, () => `three events (have ${events.join(', ')})`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(events).toEqual(['add cm', 'update cm', 'delete cm']);
      expect(informer.list('shop')).toEqual([]);
    } finally {
      await informer.stop();
    }
  });

  it('answers a watch from an expired resourceVersion with an ERROR 410 event', async () => {
    await clients.core.createNamespacedConfigMap({ namespace: 'shop', body: configMap('one') });
    server.faults.expireResourceVersions();
    const token = /token: (\S+)/.exec(server.kubeConfigYaml)![1];
    const response = await fetch(`${server.url}/api/v1/namespaces/shop/configmaps?watch=true&resourceVersion=1`, { headers: { authorization: `Bearer ${token}` } });
    const event = JSON.parse((await response.text()).split('\n')[0]!);
    expect(event).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
  });

  it('injects faults: 500s and 429s for the next requests', async () => {
    server.faults.failNext(2, 429);
    expect(apiStatus(await clients.core.listNamespacedConfigMap({ namespace: 'shop' }).catch((error: unknown) => error))).toBe(429);
    expect(apiStatus(await clients.core.listNamespacedConfigMap({ namespace: 'shop' }).catch((error: unknown) => error))).toBe(429);
    expect((await clients.core.listNamespacedConfigMap({ namespace: 'shop' })).items).toEqual([]);
  });
});

/**
 * The operator's informers against the test API server over real sockets: a quiet watch stays open
 * (no re-open every 30 s, which a fleet's idle operator would pay for every watched kind, forever),
 * and the cache keeps Deployments and Services without the fields the operator never reads.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PatchStrategy, setHeaderOptions, type V1Deployment, type V1Service } from '@kubernetes/client-node';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../../operator/kube/clients.js';
import { slimDeployment, slimService } from '../../../operator/kube/slim.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver/index.js';
import { eventually } from '../../support/cli.js';

let server: TestApiServer;
let clients: KubeClients;

beforeAll(async () => {
  server = await startTestApiServer();
  clients = createKubeClients(loadKubeConfig(server.kubeconfigPath));
});
afterAll(async () => server.close());

const deployment = (name: string): V1Deployment => ({
  metadata: { name, labels: { app: name }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"a":"big copy"}', keep: 'me' } },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } } },
});

describe('operator informers', () => {
  it('keeps a quiet watch open instead of re-opening it every 30 s', async () => {
    const informer = clients.informer('/api/v1/namespaces/quiet/configmaps', () => clients.core.listNamespacedConfigMap({ namespace: 'quiet' }));
    let connects = 0;
    informer.on('connect', () => { connects += 1; });
    await informer.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 40_000));
      expect(connects).toBe(1);
    } finally {
      await informer.stop();
    }
  }, 60_000);

  it('caches Deployments without status, managedFields or the last-applied copy, and keeps the rest', async () => {
    await clients.apps.createNamespacedDeployment({ namespace: 'slim', body: deployment('web') });
    await clients.apps.patchNamespacedDeploymentStatus({ name: 'web', namespace: 'slim', body: { status: { replicas: 5, readyReplicas: 5 } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const informer = clients.informer<V1Deployment>('/apis/apps/v1/namespaces/slim/deployments', () => clients.apps.listNamespacedDeployment({ namespace: 'slim' }), { transform: slimDeployment });
    await informer.start();
    try {
      await clients.apps.createNamespacedDeployment({ namespace: 'slim', body: deployment('watched') });
      await eventually(() => informer.list('slim').length === 2, 5000, 'listed and watched Deployments');
      for (const cached of informer.list('slim')) {
        expect(cached.status).toBeUndefined();
        expect(cached.metadata?.managedFields).toBeUndefined();
        expect(cached.metadata?.annotations).toEqual({ keep: 'me' });
        expect(cached.metadata?.resourceVersion).toBeDefined();
        expect(cached.spec?.template.spec?.containers[0]?.image).toBe('app:1');
      }
    } finally {
      await informer.stop();
    }
  });

  it('caches Services as their selector and ports, and the metadata the cache needs', async () => {
    const service = (name: string): V1Service => ({
      metadata: { name, labels: { app: name }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"a":"big copy"}', team: 'shop' } },
      spec: {
        type: 'ClusterIP', sessionAffinity: 'None', selector: { app: 'orders' },
        ports: [{ name: 'api', port: 80, targetPort: 'api', protocol: 'TCP', appProtocol: 'grpc' }, { port: 9090 }],
      },
    });
    await clients.core.createNamespacedService({ namespace: 'slim-services', body: service('listed') });
    const informer = clients.informer<V1Service>('/api/v1/namespaces/slim-services/services', () => clients.core.listNamespacedService({ namespace: 'slim-services' }), { transform: slimService });
    await informer.start();
    try {
      await clients.core.createNamespacedService({ namespace: 'slim-services', body: service('watched') });
      await eventually(() => informer.list('slim-services').length === 2, 5000, 'listed and watched Services');
      for (const cached of informer.list('slim-services')) {
        expect(cached.metadata).toEqual({ name: expect.any(String), namespace: 'slim-services', uid: expect.any(String), resourceVersion: expect.any(String), creationTimestamp: expect.anything() });
        expect(cached.spec).toEqual({ selector: { app: 'orders' }, ports: [{ name: 'api', port: 80, targetPort: 'api', protocol: 'TCP', appProtocol: 'grpc' }, { port: 9090 }] });
        expect(cached.status).toBeUndefined();
      }
    } finally {
      await informer.stop();
    }
  });
});

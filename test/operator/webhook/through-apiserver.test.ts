/**
 * Injection as a user meets it: Deployments written to the (test) API server, which calls the
 * operator's real webhook over TLS, trusting only the caBundle the webhook's bootstrap patched into
 * the chart's own MutatingWebhookConfiguration (rules, namespaceSelector, matchConditions).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { silentLogger } from '../../../api/logger.js';
import { API_GROUP, API_VERSION, POLICY_KIND, POLICY_PLURAL, configMapNameFor } from '../../../api/names.js';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../../operator/kube/clients.js';
import { apiStatus } from '../../../operator/kube/errors.js';
import { DEFAULT_INJECTION_SETTINGS } from '../../../operator/inject/settings.js';
import { startWebhook, type RunningWebhook } from '../../../operator/webhook/index.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver/index.js';
import { CASES } from '../../support/fixtures/deployments.js';
import { installPolicyCrd } from '../../support/policy-crd.js';
import { renderChart, type K8sObject } from '../../support/helm.js';

const NAMESPACE = 'badgateway-system';
const rendered = renderChart();
const webhookConfig = rendered.find((object) => object.kind === 'MutatingWebhookConfiguration') as K8sObject & { webhooks: Array<{ clientConfig: { service: { name: string } } }> };
const serviceName = webhookConfig.webhooks[0]!.clientConfig.service.name;

let server: TestApiServer | undefined;
let webhook: RunningWebhook | undefined;

afterEach(async () => {
  await webhook?.close();
  await server?.close();
  webhook = undefined;
  server = undefined;
});

async function install(gitVersion = 'v1.30.0', config: K8sObject = webhookConfig): Promise<KubeClients> {
  server = await startTestApiServer({ gitVersion });
  const clients = createKubeClients(loadKubeConfig(server.kubeconfigPath));
  expect(await server.post('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', config)).toBe(201);
  webhook = await startWebhook({
    clients, namespace: NAMESPACE, port: 0, host: '127.0.0.1', serviceName, secretName: 'bgw-webhook-tls',
    webhookConfigName: config.metadata.name, certMode: 'self-signed', injection: DEFAULT_INJECTION_SETTINGS, logger: silentLogger(),
  });
  server.routeService(NAMESPACE, serviceName, webhook.port);
  return clients;
}

const containerNames = (deployment: V1Deployment) => ({
  init: (deployment.spec?.template.spec?.initContainers ?? []).map((container) => container.name),
  main: deployment.spec?.template.spec?.containers.map((container) => container.name),
});
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('injection through the API server', () => {
  it('injects a Deployment created with the annotation, with the caBundle the bootstrap patched in', async () => {
    const clients = await install();
    const stored = await clients.admission.readMutatingWebhookConfiguration({ name: webhookConfig.metadata.name });
    expect(stored.webhooks?.[0]?.clientConfig.caBundle).toMatch(/^[A-Za-z0-9+/]+=*$/);
    const created = await clients.apps.createNamespacedDeployment({ namespace: 'shop', body: CASES['named-http-port']! });
    expect(containerNames(created)).toEqual({ init: ['badgateway'], main: ['web'] });
    const sidecar = created.spec?.template.spec?.initContainers?.[0];
    expect(sidecar?.restartPolicy).toBe('Always');
    expect(sidecar?.ports?.[0]).toMatchObject({ name: 'http', containerPort: 8502 });
    expect(created.spec?.template.spec?.containers[0]?.ports?.[0]).toMatchObject({ name: 'http-app', containerPort: 8080 });
    expect(created.metadata?.annotations?.['badgateway.io/injected']).toBeDefined();
  });

  it('injects when an existing Deployment is annotated and restores it when the annotation is removed', async () => {
    const clients = await install();
    const original = await clients.apps.createNamespacedDeployment({ namespace: 'shop', body: CASES['not-annotated']! });
    expect(containerNames(original)).toEqual({ init: [], main: ['plain'] });

    const annotated = await clients.apps.patchNamespacedDeployment({ name: 'plain', namespace: 'shop', body: { metadata: { annotations: { 'badgateway.io/inject': 'true' } } } }, mergePatch);
    expect(containerNames(annotated)).toEqual({ init: ['badgateway'], main: ['plain'] });
    expect(annotated.metadata?.generation).toBe(2);

    const restored = await clients.apps.patchNamespacedDeployment({ name: 'plain', namespace: 'shop', body: { metadata: { annotations: { 'badgateway.io/inject': null } } } }, mergePatch);
    expect(restored.spec?.template).toEqual(original.spec?.template);
    expect(Object.keys(restored.metadata?.annotations ?? {}).filter((key) => key.startsWith('badgateway.io/'))).toEqual([]);
  });

  it('puts the sidecar among the containers on a cluster older than v1.29', async () => {
    const clients = await install('v1.27.0');
    const created = await clients.apps.createNamespacedDeployment({ namespace: 'shop', body: CASES['named-http-port']! });
    expect(containerNames(created)).toEqual({ init: [], main: ['web', 'badgateway'] });
  });

  it('with the webhook down, admits unchanged under the chart default (Ignore) and refuses under Fail', async () => {
    const clients = await install();
    await webhook!.close();
    webhook = undefined;
    const admitted = await clients.apps.createNamespacedDeployment({ namespace: 'shop', body: CASES['named-http-port']! });
    expect(containerNames(admitted)).toEqual({ init: [], main: ['web'] });

    const failClosed = { ...webhookConfig, webhooks: webhookConfig.webhooks.map((hook) => ({ ...hook, failurePolicy: 'Fail' })) };
    await clients.admission.deleteMutatingWebhookConfiguration({ name: webhookConfig.metadata.name });
    expect(await server!.post('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', failClosed)).toBe(201);
    const refused = await clients.apps.createNamespacedDeployment({ namespace: 'shop', body: CASES['existing-prestop']! }).catch((error: unknown) => error);
    expect(apiStatus(refused)).toBe(500);
    expect(String((refused as { body?: unknown }).body)).toContain('failed calling webhook');
  });

  it('injects only in the watched namespace when the operator is scoped to one', async () => {
    const scoped = renderChart(['--set', 'operator.watchNamespace=shop']).find((object) => object.kind === 'MutatingWebhookConfiguration') as K8sObject;
    const clients = await install('v1.30.0', scoped);
    const inShop = await clients.apps.createNamespacedDeployment({ namespace: 'shop', body: CASES['named-http-port']! });
    expect(containerNames(inShop)).toEqual({ init: ['badgateway'], main: ['web'] });
    const elsewhere = { ...CASES['named-http-port']!, metadata: { ...CASES['named-http-port']!.metadata, namespace: 'elsewhere' } };
    expect(containerNames(await clients.apps.createNamespacedDeployment({ namespace: 'elsewhere', body: elsewhere }))).toEqual({ init: [], main: ['web'] });
  });

  it('never sends the release namespace to the webhook', async () => {
    const clients = await install();
    const ownNamespace = { ...CASES['named-http-port']!, metadata: { ...CASES['named-http-port']!.metadata, namespace: NAMESPACE } };
    const created = await clients.apps.createNamespacedDeployment({ namespace: NAMESPACE, body: ownNamespace });
    expect(containerNames(created)).toEqual({ init: [], main: ['web'] });
  });

  it('decides with the policies it watches, not with an API list inside each review: a slow API server does not turn it to defaults', async () => {
    const clients = await install();
    await installPolicyCrd(server as TestApiServer);
    const policy = { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: POLICY_KIND, metadata: { name: 'web-policy', namespace: 'shop' }, spec: { targetRef: { kind: 'Deployment', name: 'web' } } };
    expect(await (server as TestApiServer).post(`/apis/${API_GROUP}/${API_VERSION}/namespaces/shop/${POLICY_PLURAL}`, policy)).toBe(201);
    // The webhook's informer retries its first list each second until the CRD exists.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    (server as TestApiServer).faults.latency(1000);
    const created = await clients.apps.createNamespacedDeployment({ namespace: 'shop', body: CASES['named-http-port']! });
    const volumes = JSON.stringify(created.spec?.template.spec?.volumes ?? []);
    expect(volumes).toContain(`"name":"${configMapNameFor('web-policy')}"`);
  }, 30_000);
});

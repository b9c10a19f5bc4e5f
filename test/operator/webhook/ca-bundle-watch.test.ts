/**
 * A reinstall while the operator runs: `helm uninstall` and `helm install` replace the
 * MutatingWebhookConfiguration with one whose caBundle is empty. The operator (run as the chart's
 * Deployment runs it, as its ServiceAccount, so its RBAC is the chart's) notices the new or changed
 * configuration and patches it within seconds, and annotated Deployments are injected again.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import type { KubeClients } from '../../../operator/kube/clients.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver/index.js';
import { eventually } from '../../support/cli.js';
import { applyManifests, startOperatorFromChart, type RunningOperator } from '../../support/cluster-stand-in.js';
import { CASES } from '../../support/fixtures/deployments.js';
import { renderChart, type K8sObject } from '../../support/helm.js';
import { clientsFor } from '../../reliability/operator-harness.js';

const NAMESPACE = 'badgateway-system';
const rendered = renderChart();
const webhookConfig = rendered.find((object) => object.kind === 'MutatingWebhookConfiguration') as K8sObject & { webhooks: { clientConfig: { service: { namespace: string; name: string } } }[] };
const operatorDeployment = rendered.find((object) => object.kind === 'Deployment') as K8sObject;
const serviceAccount = (operatorDeployment as { spec?: { template?: { spec?: { serviceAccountName?: string } } } }).spec?.template?.spec?.serviceAccountName ?? '';
/** The operator notices within seconds; the hourly renewal check alone would take up to an hour. */
const NOTICED_MS = 10_000;

let api: TestApiServer;
let clients: KubeClients;
let operator: RunningOperator | undefined;

beforeAll(async () => {
  api = await startTestApiServer();
  clients = clientsFor(api.kubeconfigPath);
  for (const name of [NAMESPACE, 'shop']) expect((await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } } as K8sObject)).status).toBe(201);
  expect(await applyManifests(api, rendered)).toEqual([]);
  operator = await startOperatorFromChart(operatorDeployment, api.serviceAccountKubeconfig(NAMESPACE, serviceAccount), 'bgw-badgateway-0');
  const { service } = webhookConfig.webhooks[0]!.clientConfig;
  api.routeService(service.namespace, service.name, operator.webhookPort);
  const running = operator;
  await eventually(() => /webhook listening/.test(running.output()), 60_000, () => `webhook listening (operator output: ${running.output().slice(-400)})`);
}, 90_000);
afterAll(async () => {
  operator?.stop();
  await api.close();
});

const caBundle = async (): Promise<string | undefined> =>
  (await clients.admission.readMutatingWebhookConfiguration({ name: webhookConfig.metadata.name })).webhooks?.[0]?.clientConfig.caBundle;
const injected = (deployment: V1Deployment) => (deployment.spec?.template.spec?.initContainers ?? []).map((container) => container.name).includes('badgateway');

describe('the webhook configuration replaced while the operator runs', () => {
  it('a recreated configuration (uninstall, install) gets the caBundle again within seconds, and injection works', async () => {
    await eventually(async () => (await caBundle()) !== undefined, NOTICED_MS, 'the caBundle patched at start');
    const first = await caBundle();

    await clients.admission.deleteMutatingWebhookConfiguration({ name: webhookConfig.metadata.name });
    expect((await api.create(webhookConfig)).status).toBe(201);
    expect(await caBundle()).toBeUndefined();
    await eventually(async () => (await caBundle()) === first, NOTICED_MS, () => `the caBundle patched again (operator output: ${operator?.output().slice(-600)})`);

    const created = await clients.apps.createNamespacedDeployment({ namespace: 'shop', body: CASES['named-http-port']! });
    expect(injected(created)).toBe(true);
  }, 60_000);

  it('a changed caBundle is put back within seconds', async () => {
    const expected = await caBundle();
    const stale = Buffer.from('-----BEGIN CERTIFICATE-----\nstale\n-----END CERTIFICATE-----\n').toString('base64');
    await clients.admission.patchMutatingWebhookConfiguration(
      { name: webhookConfig.metadata.name, body: [{ op: 'replace', path: '/webhooks/0/clientConfig/caBundle', value: stale }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    expect(await caBundle()).toBe(stale);
    await eventually(async () => (await caBundle()) === expected, NOTICED_MS, 'the caBundle put back');
  }, 30_000);
});

/**
 * `helm install`, played on the test API server: every manifest the chart renders (CRD, RBAC,
 * webhook configuration, Services, PDB, the operator Deployment) is created; the operator runs from
 * the built code with exactly the chart Deployment's arguments and environment; the API server's
 * admission calls its webhook. Then the example: the annotated Deployment gets its sidecar and the
 * policy becomes Ready, with a bypass-free Service.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { API_GROUP, API_VERSION, POLICY_PLURAL } from '../../api/names.js';
import { createKubeClients, loadKubeConfig } from '../../operator/kube/clients.js';
import { startTestApiServer, type TestApiServer } from '../support/apiserver/index.js';
import { eventually, repoRoot } from '../support/cli.js';
import { applyManifests, startOperatorFromChart, type RunningOperator } from '../support/cluster-stand-in.js';
import { renderChart, type K8sObject } from '../support/helm.js';

let api: TestApiServer | undefined;
let operator: RunningOperator | undefined;

afterAll(async () => {
  operator?.stop();
  await api?.close();
});

interface Condition { type: string; status: string; reason?: string; message?: string }

describe('helm install on the test API server', () => {
  it('installs, injects the annotated example Deployment and makes the example policy Ready', async () => {
    api = await startTestApiServer();
    const server = api;
    const clients = createKubeClients(loadKubeConfig(server.kubeconfigPath));
    const rendered = renderChart();
    expect((await server.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'badgateway-system' } } as K8sObject)).status).toBe(201);
    expect(await applyManifests(server, rendered)).toEqual([]);
    expect(new Set(rendered.map((object) => object.kind))).toEqual(new Set([
      'CustomResourceDefinition', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding',
      'Service', 'Deployment', 'PodDisruptionBudget', 'MutatingWebhookConfiguration',
    ]));

    const operatorDeployment = rendered.find((object) => object.kind === 'Deployment') as K8sObject;
    const webhookConfig = rendered.find((object) => object.kind === 'MutatingWebhookConfiguration') as K8sObject & { webhooks: Array<{ clientConfig: { service: { namespace: string; name: string } } }> };
    // The operator authenticates as the chart's ServiceAccount: RBAC decides what it may do, as in a cluster.
    const serviceAccount = String((operatorDeployment as { spec?: { template?: { spec?: { serviceAccountName?: string } } } }).spec?.template?.spec?.serviceAccountName);
    operator = await startOperatorFromChart(operatorDeployment, server.serviceAccountKubeconfig('badgateway-system', serviceAccount), 'bgw-badgateway-0');
    const { service } = webhookConfig.webhooks[0]!.clientConfig;
    server.routeService(service.namespace, service.name, operator.webhookPort);
    const running = operator;
    await eventually(() => /webhook listening/.test(running.output()), 30_000, () => `webhook listening (operator output: ${running.output().slice(-400)})`);

    const example = parseAllDocuments(readFileSync(join(repoRoot, 'charts', 'badgateway', 'examples', 'web.yaml'), 'utf8')).map((document) => document.toJS() as K8sObject);
    expect((await server.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } } as K8sObject)).status).toBe(201);
    for (const object of example) expect((await server.create(object)).status).toBe(201);

    const deployment = await clients.apps.readNamespacedDeployment({ namespace: 'shop', name: 'web' });
    expect(deployment.spec?.template.spec?.initContainers?.map((container) => container.name)).toEqual(['badgateway']);

    let conditions: Condition[] = [];
    await eventually(async () => {
      const policy = await clients.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: 'shop', plural: POLICY_PLURAL, name: 'web' }) as { status?: { conditions?: Condition[] } };
      conditions = policy.status?.conditions ?? [];
      return conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True');
    }, 30_000, () => `policy Ready (conditions: ${JSON.stringify(conditions)})`);
    expect(conditions.find((condition) => condition.type === 'Accepted')?.status).toBe('True');
    expect(conditions.find((condition) => condition.type === 'Conflicted')?.status ?? 'False').toBe('False');
    // Least privilege, but enough: nothing the operator did was refused by the chart's RBAC.
    expect(running.output()).not.toMatch(/forbidden|\b403\b/i);
  }, 120_000);
});

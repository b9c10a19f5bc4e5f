/**
 * The chart installed without Helm's release machinery, as GitOps tools do it: `helm template |
 * kubectl apply -f -` on the run's real control plane. kube-apiserver judges every object the chart
 * renders (RBAC, webhook configuration, Services, PDB, the operator Deployment, which the real
 * controllers and kwok roll out); the operator runs from the built code with exactly the Deployment's
 * arguments and environment, as the chart's ServiceAccount, so RBAC decides what it may do; the
 * apiserver calls its webhook through the `service:` reference. Then the example: the annotated
 * Deployment gets its sidecar and the policy becomes Ready. The release is named after the test's
 * namespace and scoped to a namespace of its own (operator.watchNamespace), so test files running
 * beside it on the same cluster never meet its webhook; the CRD is the run's shared one
 * (crd-real-apiserver.test.ts judges it).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { API_GROUP, API_VERSION, POLICY_PLURAL } from '../../api/names.js';
import { createKubeClients, loadKubeConfig } from '../../operator/kube/clients.js';
import { eventually } from '../support/cli.js';
import { runReleasedOperator, type ReleasedOperator } from '../support/chart-release.js';
import { startToolRunner, type ToolRunner } from '../support/client-session.js';
import { CLUSTER_START_TIMEOUT_MS, sharedCluster, type Cluster } from '../support/cluster.js';
import { createNamespace, deleteNamespace } from '../support/cluster-objects.js';
import { chartDir, renderChart } from '../support/helm.js';
import { ensurePolicyCrd } from '../support/policy-crd.js';

let cluster: Cluster;
let tools: ToolRunner;
let operatorNamespace: string;
let shop: string;
let manifests = '';
let release: ReleasedOperator | undefined;

beforeAll(async () => {
  cluster = await sharedCluster();
  await ensurePolicyCrd(cluster);
  tools = startToolRunner(cluster.kubeconfigPath);
  operatorNamespace = await createNamespace(cluster, 'bgw-system');
  shop = await createNamespace(cluster, 'shop');
}, CLUSTER_START_TIMEOUT_MS);

afterAll(async () => {
  await release?.close();
  if (manifests !== '') await tools.kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], manifests);
  await deleteNamespace(cluster, shop);
  await deleteNamespace(cluster, operatorNamespace);
  await tools.close();
}, 60_000);

interface Condition { type: string; status: string; reason?: string; message?: string }

describe('the chart applied with helm template | kubectl apply', () => {
  it('is accepted by kube-apiserver, injects the annotated example Deployment and makes the example policy Ready', async () => {
    const rendered = renderChart(['--set', `operator.watchNamespace=${shop}`], operatorNamespace, operatorNamespace);
    expect(new Set(rendered.map((object) => object.kind))).toEqual(new Set([
      'CustomResourceDefinition', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding',
      'Service', 'Deployment', 'PodDisruptionBudget', 'MutatingWebhookConfiguration',
    ]));
    manifests = rendered.filter((object) => object.kind !== 'CustomResourceDefinition').map((object) => stringify(object)).join('---\n');
    await tools.kubectlOk(['apply', '-f', '-'], manifests);
    // The real Deployment controller, scheduler and kwok make the operator's replicas available.
    await tools.kubectlOk(['-n', operatorNamespace, 'rollout', 'status', 'deployment', '--timeout=120s']);
    release = await runReleasedOperator(cluster, tools, operatorNamespace, `${operatorNamespace}-0`, shop);

    const example = readFileSync(join(chartDir, 'examples', 'web.yaml'), 'utf8').replaceAll(/^(\s+namespace:) shop$/gm, `$1 ${shop}`);
    await tools.kubectlOk(['apply', '-f', '-'], example);
    const clients = createKubeClients(loadKubeConfig(cluster.kubeconfigPath));
    const deployment = await clients.apps.readNamespacedDeployment({ namespace: shop, name: 'web' });
    expect(deployment.spec?.template.spec?.initContainers?.map((container) => container.name)).toEqual(['badgateway']);

    let conditions: Condition[] = [];
    await eventually(async () => {
      const policy = await clients.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: shop, plural: POLICY_PLURAL, name: 'web' }) as { status?: { conditions?: Condition[] } };
      conditions = policy.status?.conditions ?? [];
      return conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True');
    }, 60_000, () => `policy Ready (conditions: ${JSON.stringify(conditions)})`);
    expect(conditions.find((condition) => condition.type === 'Accepted')?.status).toBe('True');
    expect(conditions.find((condition) => condition.type === 'Conflicted')?.status ?? 'False').toBe('False');
    // Least privilege, but enough: nothing the operator did was refused by the chart's RBAC.
    expect(release.operator.output()).not.toMatch(/forbidden|\b403\b/i);
  }, 240_000);
});

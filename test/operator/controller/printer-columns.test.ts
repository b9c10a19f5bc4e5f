/**
 * `kubectl get badgatewaypolicies` on the real apiserver, with the status the controller wrote:
 * the TARGETS column names every target, up to three and then how many more (kube-apiserver prints
 * only the first value a list-valued column's JSONPath finds, so the column reads status.targetSummary).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '../../support/cli.js';
import { startToolRunner, type ToolRunner } from '../../support/client-session.js';
import { CLUSTER_START_TIMEOUT_MS, sharedCluster } from '../../support/cluster.js';
import { startClusterHarness, type ClusterHarness } from './cluster-harness.js';
import { deployment, policy, policyGroup } from './harness.js';

let harness: ClusterHarness;
let tools: ToolRunner;

beforeAll(async () => {
  await sharedCluster();
  harness = await startClusterHarness('columns');
  tools = startToolRunner(harness.cluster.kubeconfigPath);
}, CLUSTER_START_TIMEOUT_MS);
afterAll(async () => {
  await tools?.close();
  await harness?.close();
});

describe('the TARGETS printer column', () => {
  it('names one, three and five targets as the controller found them', async () => {
    const { clients, namespace } = harness;
    const deployments = { shop: ['web', 'search', 'db', 'cart', 'api'], back: ['queue', 'billing', 'auth'], solo: ['solo'] };
    for (const [tier, names] of Object.entries(deployments)) {
      for (const name of names) await clients.apps.createNamespacedDeployment({ namespace, body: deployment(name, { app: name, tier }, { namespace }) });
    }
    await harness.start();
    const create = (name: string, spec: Record<string, unknown>) => clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace, body: policy(name, spec, namespace) });
    await create('shop', { selector: { matchLabels: { tier: 'shop' } } });
    await create('one', { targetRef: { kind: 'Deployment', name: 'solo' } });
    await create('three', { selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] } });
    await create('none', { selector: { matchLabels: { tier: 'nothing' } } });

    // Cells by the header's offsets: kubectl leaves an empty cell blank.
    const table = async () => {
      const [header = '', ...lines] = (await tools.kubectlOk(['-n', namespace, 'get', 'badgatewaypolicies', '--sort-by=.metadata.name'])).trimEnd().split('\n');
      const targets = header.indexOf('TARGETS');
      const next = header.indexOf('CONFIGURED');
      return lines.map((line) => [line.slice(0, targets).trim(), line.slice(targets, next).trim()]);
    };
    let rows: string[][] = [];
    await eventually(async () => {
      rows = await table();
      return rows.length === 4 && rows.every(([name, targets]) => name === 'none' || targets !== '');
    }, 30_000, () => `every policy's targets in the table (last: ${JSON.stringify(rows)})`);
    expect(rows).toEqual([
      ['none', ''],
      ['one', 'solo'],
      ['shop', 'api,cart,db +2 more'],
      ['three', 'auth,billing,queue'],
    ]);
  }, 120_000);
});

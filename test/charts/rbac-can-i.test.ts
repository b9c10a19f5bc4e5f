/**
 * docs/rbac.md, row by row, against kube-apiserver's own RBAC authorizer: the chart's
 * ServiceAccount, ClusterRole, Role and bindings are created in the real control plane, and
 * `kubectl auth can-i --as=system:serviceaccount:NS:NAME` must say yes to every verb of the
 * "what the operator uses" table, where its scope says, and no to every "must not" row.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/cli.js';
import { startToolRunner, type ToolRunner } from '../support/client-session.js';
import { CLUSTER_START_TIMEOUT_MS, sharedCluster, type Cluster } from '../support/cluster.js';
import { createNamespace, deleteNamespace } from '../support/cluster-objects.js';
import { installOperatorIdentity, type OperatorIdentity } from '../support/cluster-operator.js';
import { ensurePolicyCrd } from '../support/policy-crd.js';

interface Rule { apiGroups: string[]; resources: string[]; resourceNames?: string[]; verbs: string[] }
interface Check { verb: string; resource: string; scope: string[]; row: string }

const doc = readFileSync(join(repoRoot, 'docs', 'rbac.md'), 'utf8');

let cluster: Cluster;
let tools: ToolRunner;
let namespace: string;
let operator: OperatorIdentity;

/** The rows of the markdown table whose header starts with `marker`, as cells. */
function tableAfter(marker: string): string[][] {
  const start = doc.indexOf(marker);
  if (start < 0) throw new Error(`docs/rbac.md: "${marker}" not found`);
  const lines = doc.slice(start).split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((cell) => cell.trim()));
  }
  return rows;
}

const rulesOf = (kind: string): Rule[] => (operator.rbac.find((object) => object.kind === kind) as unknown as { rules: Rule[] }).rules;

/** The "what the operator uses" table as can-i checks; resource names come from the rendered rules. */
function allowedChecks(): Check[] {
  const checks: Check[] = [];
  for (const [group = '', resource = '', verbs = '', scope = ''] of tableAfter('| API group | resource | verbs |')) {
    const apiGroup = group.replaceAll('"', '');
    // kubectl names a subresource with --subresource; `resource/x` would be the object named x.
    const [plural = '', subresource] = resource.split('/');
    const qualified = apiGroup === '' ? plural : `${plural}.${apiGroup}`;
    const where = [...(scope.startsWith('cluster') ? ['--all-namespaces'] : ['-n', namespace]), ...(subresource === undefined ? [] : ['--subresource', subresource])];
    for (const segment of verbs.split(';')) {
      const named = /resourceNames/.test(segment);
      const rules = [...rulesOf('ClusterRole'), ...rulesOf('Role')];
      const rule = rules.find((candidate) => candidate.apiGroups.includes(apiGroup) && candidate.resources.includes(resource) && (candidate.resourceNames !== undefined) === named);
      if (rule === undefined) throw new Error(`docs/rbac.md row ${group} ${resource} ${segment}: no such rule in the chart`);
      const target = named ? `${qualified}/${rule.resourceNames?.[0] ?? ''}` : qualified;
      for (const verb of segment.replace(/\(.*\)/, '').split(',').map((item) => item.trim()).filter((item) => item !== '')) {
        checks.push({ verb, resource: target, scope: named && scope.startsWith('cluster') ? [] : where, row: `${group} ${resource} ${verb}` });
      }
    }
  }
  return checks;
}

function refusedChecks(): Check[] {
  return tableAfter('| verb | resource | where |').map(([verb = '', resource = '', where = '']) => ({
    verb,
    resource,
    scope: where === 'any namespace' ? ['--all-namespaces'] : where === 'cluster' ? [] : where === 'its own namespace' ? ['-n', namespace] : ['-n', where.replace(/^namespace `(.*)`$/, '$1')],
    row: `${verb} ${resource} (${where})`,
  }));
}

beforeAll(async () => {
  cluster = await sharedCluster();
  await ensurePolicyCrd(cluster); // can-i answers no for a resource the apiserver does not serve
  tools = startToolRunner(cluster.kubeconfigPath);
  namespace = await createNamespace(cluster, 'rbac');
  operator = await installOperatorIdentity(cluster, namespace);
}, CLUSTER_START_TIMEOUT_MS);

afterAll(async () => {
  await operator?.remove();
  await deleteNamespace(cluster, namespace);
  await tools.close();
});

const canI = async (check: Check): Promise<string> => {
  const run = await tools.kubectl(['auth', 'can-i', check.verb, check.resource, ...check.scope, `--as=${operator.user}`]);
  if (run.code !== 0 && run.code !== 1) throw new Error(`kubectl auth can-i ${check.verb} ${check.resource}: ${run.stderr}`);
  return `${check.row}: ${run.stdout.trim()}`;
};

describe('the chart\'s RBAC on kube-apiserver, as docs/rbac.md states it', () => {
  it('the real apiserver accepts the chart\'s RBAC objects and allows every verb the operator uses', async () => {
    const checks = allowedChecks();
    expect(checks.length).toBeGreaterThanOrEqual(20);
    const answers = await Promise.all(checks.map(canI));
    expect(answers).toEqual(checks.map((check) => `${check.row}: yes`));
  });

  it('refuses everything the operator must not do', async () => {
    const checks = refusedChecks();
    expect(checks.length).toBeGreaterThanOrEqual(10);
    const answers = await Promise.all(checks.map(canI));
    expect(answers).toEqual(checks.map((check) => `${check.row}: no`));
  });
});

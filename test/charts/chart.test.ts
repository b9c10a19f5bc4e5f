/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped YAML walked by path */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { renderCrdYaml } from '../../cli/crd-command.js';
import { chartDir, helm, renderChart, type K8sObject } from '../support/helm.js';

const NON_DEFAULT = {
  operator: { replicas: 3, watchNamespace: 'shop', leaderElection: { enabled: false } },
  webhook: { failurePolicy: 'Fail', matchConditions: false, certManager: { enabled: true } },
  metrics: { serviceMonitor: { enabled: true, labels: { release: 'prom' } } },
  sidecar: { image: 'registry.local/badgateway:dev', memory: '80Mi' },
};

function valuesFile(values: object): string {
  const file = join(mkdtempSync(join(tmpdir(), 'values-')), 'values.yaml');
  writeFileSync(file, stringify(values));
  return file;
}

const find = (objects: K8sObject[], kind: string, name?: string) =>
  objects.find((object) => object.kind === kind && (name === undefined || object.metadata.name === name)) as K8sObject & Record<string, any>;

/** The Kubernetes JSON schemas of each kind (kubernetes-models); CRD-based third-party kinds excepted. */
async function validateAgainstKubernetesSchemas(objects: K8sObject[]): Promise<string[]> {
  const unvalidated: string[] = [];
  for (const object of objects) {
    const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
    if (group === 'cert-manager.io' || group === 'monitoring.coreos.com' || group === 'badgateway.io') {
      unvalidated.push(object.kind);
      continue;
    }
    const module = await import(`kubernetes-models/${group === '' ? '' : `${group}/`}${version}/${object.kind}`);
    const Model = module[object.kind] as new (data: unknown) => { validate(): void };
    expect(() => new Model(object).validate()).not.toThrow();
  }
  return unvalidated;
}

describe('helm chart', () => {
  it('passes helm lint --strict with default and non-default values', () => {
    expect(helm(['lint', '--strict', chartDir]).status).toBe(0);
    const lint = helm(['lint', '--strict', chartDir, '-f', valuesFile(NON_DEFAULT)]);
    expect({ status: lint.status, out: lint.stdout }).toEqual({ status: 0, out: expect.stringContaining('0 chart(s) failed') });
  });

  it('renders manifests that are valid Kubernetes objects, with default and non-default values', async () => {
    const defaults = renderChart();
    expect(defaults.map((object) => object.kind).sort()).toEqual([
      'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'Deployment', 'MutatingWebhookConfiguration',
      'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'Service', 'ServiceAccount',
    ]);
    expect(await validateAgainstKubernetesSchemas(defaults)).toEqual([]);
    const custom = renderChart(['-f', valuesFile(NON_DEFAULT)]);
    expect((await validateAgainstKubernetesSchemas(custom)).sort()).toEqual(['Certificate', 'Issuer', 'ServiceMonitor']);
  });

  it('rejects values the schema does not know', () => {
    const result = helm(['template', 'bgw', chartDir, '--set', 'operator.replicaz=3']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/replicaz/);
    expect(helm(['template', 'bgw', chartDir, '--set', 'webhook.failurePolicy=Sometimes']).status).not.toBe(0);
  });

  it('ships exactly the CRD that `badgateway crd` generates', () => {
    const shipped = readFileSync(join(chartDir, 'crds', 'badgatewaypolicies.badgateway.io.yaml'), 'utf8');
    expect(shipped).toBe(renderCrdYaml());
  });

  it('RBAC is least privilege: no wildcards, exactly the documented verbs', () => {
    const objects = renderChart();
    for (const role of objects.filter((object) => object.kind === 'ClusterRole' || object.kind === 'Role')) {
      for (const rule of (role as Record<string, any>).rules) {
        for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames']) expect(rule[field] ?? []).not.toContain('*');
      }
    }
    const cluster = find(objects, 'ClusterRole').rules.map((rule: Record<string, string[]>) => `${rule.apiGroups!.join(',')}/${rule.resources!.join(',')}: ${rule.verbs!.join(',')}`);
    expect(cluster).toEqual([
      'badgateway.io/badgatewaypolicies: get,list,watch',
      'badgateway.io/badgatewaypolicies/status: update',
      '/configmaps: get,list,watch,create,update,delete',
      'apps/deployments: list,watch,patch',
      '/services: list,watch',
      'events.k8s.io/events: create',
      'admissionregistration.k8s.io/mutatingwebhookconfigurations: get,list,watch,patch',
    ]);
    expect(find(objects, 'ClusterRole').rules.at(-1).resourceNames).toEqual(['bgw-badgateway']);
    const namespaced = find(objects, 'Role');
    expect(namespaced.metadata.namespace).toBe('badgateway-system');
    expect(namespaced.rules.flatMap((rule: Record<string, string[]>) => rule.resources)).toEqual(['leases', 'leases', 'secrets', 'secrets']);
  });

  it('configures the webhook safely: sideEffects None, Ignore by default, 5 s, release namespace excluded, opt-in match', () => {
    const webhook = find(renderChart(), 'MutatingWebhookConfiguration').webhooks[0];
    expect(webhook).toMatchObject({
      sideEffects: 'None',
      failurePolicy: 'Ignore',
      timeoutSeconds: 5,
      admissionReviewVersions: ['v1'],
      clientConfig: { service: { name: 'bgw-badgateway-webhook', namespace: 'badgateway-system', path: '/mutate', port: 443 } },
      rules: [{ apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], operations: ['CREATE', 'UPDATE'] }],
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['badgateway-system', 'kube-system'] }] },
    });
    expect(webhook.matchConditions[0].expression).toContain("'badgateway.io/inject' in object.metadata.annotations");
  });

  it('runs the operator hardened: 2 replicas, leader election, non-root, read-only root fs, probes, spread, PDB', () => {
    const objects = renderChart();
    const deployment = find(objects, 'Deployment');
    const pod = deployment.spec.template.spec;
    const container = pod.containers[0];
    expect(deployment.spec.replicas).toBe(2);
    expect(container.args).toEqual(expect.arrayContaining(['operator', '--webhook-port=9443', '--metrics-port=8080', '--lease-name=bgw-badgateway-leader', '--cert-mode=self-signed', '--webhook-config=bgw-badgateway']));
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(pod.topologySpreadConstraints).toHaveLength(2);
    expect(find(objects, 'PodDisruptionBudget').spec.minAvailable).toBe(1);
  });

  it('gives the operator its memory settings by default (V8 semi-spaces, two malloc arenas), each left out when emptied', () => {
    const environment = (args: string[] = []): Record<string, unknown> => Object.fromEntries(
      (find(renderChart(args), 'Deployment').spec.template.spec.containers[0].env as Array<{ name: string; value?: string }>)
        .filter((entry) => entry.value !== undefined).map((entry) => [entry.name, entry.value]),
    );
    expect(environment()).toEqual({ NODE_OPTIONS: '--max-semi-space-size=4', MALLOC_ARENA_MAX: '2' });
    expect(environment(['--set', 'operator.mallocArenaMax=0', '--set', 'operator.nodeOptions='])).toEqual({});
    expect(environment(['--set', 'operator.mallocArenaMax=4'])).toMatchObject({ MALLOC_ARENA_MAX: '4' });
    const negative = helm(['template', 'bgw', chartDir, '--set', 'operator.mallocArenaMax=-1']);
    expect({ status: negative.status, stderr: negative.stderr }).toEqual({ status: 1, stderr: expect.stringContaining('mallocArenaMax') });
  });

  it('renders the PodDisruptionBudget only when it can be satisfied (more replicas than minAvailable)', () => {
    expect(find(renderChart(['--set', 'operator.replicas=1']), 'PodDisruptionBudget')).toBeUndefined();
    expect(find(renderChart(['--set', 'operator.replicas=2', '--set', 'operator.podDisruptionBudget.minAvailable=2']), 'PodDisruptionBudget')).toBeUndefined();
    expect(find(renderChart(['--set', 'operator.replicas=3', '--set', 'operator.podDisruptionBudget.minAvailable=2']), 'PodDisruptionBudget').spec.minAvailable).toBe(2);
  });

  it('has NOTES that name only real files and commands, no placeholder', () => {
    const notes = readFileSync(join(chartDir, 'templates', 'NOTES.txt'), 'utf8');
    // `badgateway check` is suggested: the set-up where two of its checks cannot pass is named.
    expect(notes).toMatch(/started by hand[\s\S]*"operator Deployment available"[\s\S]*"operator leader elected"/);
    expect(notes).not.toMatch(/…|https?:\/\//);
    for (const path of notes.match(/(?:charts|docs)\/[\w./-]+\.(?:yaml|md)/g) ?? []) expect(existsSync(join(chartDir, '..', '..', path))).toBe(true);
    expect(notes).toContain('kubectl get bgwp -A -o wide');
  });

  it('switches to cert-manager, one namespace and no leader election when asked', () => {
    const objects = renderChart(['-f', valuesFile(NON_DEFAULT)]);
    const container = find(objects, 'Deployment').spec.template.spec.containers[0];
    expect(container.args).toEqual(expect.arrayContaining(['--cert-mode=external', '--cert-dir=/tls', '--namespace=shop', '--no-leader-elect', '--sidecar-image=registry.local/badgateway:dev']));
    expect((find(objects, 'MutatingWebhookConfiguration') as any).metadata.annotations?.['cert-manager.io/inject-ca-from' as never]).toBe('badgateway-system/bgw-badgateway-webhook-tls');
    expect(find(objects, 'MutatingWebhookConfiguration').webhooks[0].failurePolicy).toBe('Fail');
    // Injection follows the operator's scope: only the watched namespace is sent to the webhook.
    expect(find(objects, 'MutatingWebhookConfiguration').webhooks[0].namespaceSelector.matchExpressions).toContainEqual({ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['shop'] });
    expect(find(objects, 'Role').rules.flatMap((rule: Record<string, string[]>) => rule.resources)).not.toContain('secrets');
  });

  it('has an example whose Deployment, Service and policy are valid and fit together', async () => {
    const example = parseAllDocuments(readFileSync(join(chartDir, 'examples', 'web.yaml'), 'utf8')).map((document) => document.toJS() as K8sObject);
    expect(example.map((object) => object.kind)).toEqual(['Deployment', 'Service', 'BadGatewayPolicy']);
    expect(await validateAgainstKubernetesSchemas(example)).toEqual(['BadGatewayPolicy']);
    const { validatePolicySpec } = await import('../../api/validate.js');
    expect(validatePolicySpec((example[2] as Record<string, unknown>).spec).problems).toEqual([]);
    expect((example[1] as Record<string, any>).spec.ports[0].targetPort).toBe('http');
  });
});

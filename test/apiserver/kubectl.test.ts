/* eslint-disable @typescript-eslint/no-explicit-any -- custom objects and kubectl -o json come back as untyped JSON */
/**
 * The real kubectl v1.35, the same expectations against kube-apiserver (the run's real control
 * plane, a namespace per test) and against the test API server (through its HTTPS front: kubectl
 * sends bearer tokens over TLS only; a fresh server per test): where the two answer differently,
 * the fake is wrong. Where a real cluster's controllers add what the fake has no controllers for
 * (each namespace's `kube-root-ca.crt`, a Deployment's status), the test says so. Each test gets a
 * fresh HOME/--cache-dir, so no discovery or OpenAPI cache leaks between tests. Results are
 * checked through client-node.
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parse, parseAllDocuments } from 'yaml';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../operator/kube/clients.js';
import { apiStatus } from '../../operator/kube/errors.js';
import { eventually, repoRoot } from '../support/cli.js';
import { startTestApiServer, type TestApiServer } from '../support/apiserver/index.js';
import { startTlsFront, type TlsFront } from '../support/apiserver/tls.js';
import { ensurePolicyCrd, installPolicyCrd } from '../support/policy-crd.js';
import { CLUSTER_START_TIMEOUT_MS, clusterRequest, sharedCluster, type Cluster } from '../support/cluster.js';
import { createNamespace, deleteNamespace } from '../support/cluster-objects.js';
import { kubeconfigYaml } from '../cluster/pki.js';
import { helmPath, kubectlPath } from '../support/tools.js';

interface Run { code: number | null; stdout: string; stderr: string }

/** Which backend the current describe runs against (set by its beforeAll). */
let real = true;
let server: TestApiServer | undefined;
let front: TlsFront | undefined;
let cluster: Cluster;
let clients: KubeClients;
let home: string;
let kubeconfigPath: string;
/** The test's namespace: `default` on a fresh test API server, a namespace of its own on the cluster. */
let ns = 'default';
/** ConfigMaps every namespace of a real cluster has (the root CA controller's): none on the fake. */
let systemConfigMaps: string[][] = [];
const running = new Set<ChildProcess>();

beforeAll(async () => {
  cluster = await sharedCluster();
}, CLUSTER_START_TIMEOUT_MS);

beforeEach(async () => {
  home = mkdtempSync(join(tmpdir(), 'kubectl-home-'));
  if (real) {
    ns = await createNamespace(cluster, 'kubectl');
    kubeconfigPath = join(home, 'kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigYaml(cluster.url, cluster.caPem, cluster.token, 'admin', ns), { mode: 0o600 });
    await eventually(async () => (await clusterRequest(cluster, 'GET', `/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`)).status === 200, 20_000, 'kube-root-ca.crt');
    systemConfigMaps = [['kube-root-ca.crt', '1', expect.any(String) as unknown as string]];
  } else {
    server = await startTestApiServer();
    front = await startTlsFront(server);
    kubeconfigPath = front.kubeconfigPath;
    ns = 'default';
    systemConfigMaps = [];
  }
  clients = createKubeClients(loadKubeConfig(kubeconfigPath));
});
afterEach(async () => {
  for (const child of running) child.kill('SIGKILL');
  if (real) await deleteNamespace(cluster, ns);
  await front?.close();
  await server?.close();
  rmSync(home, { recursive: true, force: true });
});

/** Waits for the real controllers to finish a rollout of `replicas`; resolves to the settled resourceVersion. */
async function rolledOut(replicas: number): Promise<string | undefined> {
  let version: string | undefined;
  await eventually(async () => {
    const current = await clients.apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    version = current.metadata?.resourceVersion;
    const status = current.status;
    return status?.observedGeneration === current.metadata?.generation && status?.updatedReplicas === replicas && status?.availableReplicas === replicas && status?.replicas === replicas;
  }, 60_000, `a rollout of ${replicas} replicas`);
  return version;
}

const installCrd = (): Promise<void> => (real ? ensurePolicyCrd(cluster) : installPolicyCrd(server!));

/** Starts kubectl with this test's kubeconfig, HOME and cache; `done` resolves when it exits. */
function startKubectl(args: string[], input = ''): { child: ChildProcess; done: Promise<Run>; stdout: () => string } {
  const child = spawn(kubectlPath(), ['--cache-dir', join(home, 'cache'), ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: home, KUBECONFIG: kubeconfigPath },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (data) => { stdout += String(data); });
  child.stderr?.on('data', (data) => { stderr += String(data); });
  child.stdin?.end(input);
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done, stdout: () => stdout };
}

const kubectl = (args: string[], input = ''): Promise<Run> => startKubectl(args, input).done;

async function kubectlOk(args: string[], input = ''): Promise<string> {
  const run = await kubectl(args, input);
  if (run.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  return run.stdout;
}

/** `kubectl get` output as rows of whitespace-separated cells, header first. */
const tableRows = (text: string): string[][] => text.trim().split('\n').map((line) => line.trim().split(/\s{2,}/));

const configMapYaml = (name: string, data: Record<string, string>, labels: Record<string, string> = {}) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels }, data });

const deploymentYaml = (replicas: number, image = 'nginx:1.27') => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${ns}, labels: { app: web } }
spec:
  replicas: ${replicas}
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - { name: app, image: "${image}", ports: [{ name: http, containerPort: 8080 }] }
        - { name: log, image: "busybox:1" }
`;

const policyYaml = (spec: string) => `
apiVersion: badgateway.io/v1alpha1
kind: BadGatewayPolicy
metadata: { name: web, namespace: ${ns} }
spec:
${spec}
`;

const policy = () => ({ group: 'badgateway.io', version: 'v1alpha1', plural: 'badgatewaypolicies', namespace: ns });

async function setPolicyReady(status: 'True' | 'False', targets: string[] = []): Promise<void> {
  const current: any = await clients.custom.getNamespacedCustomObject({ ...policy(), name: 'web' });
  await clients.custom.replaceNamespacedCustomObjectStatus({
    ...policy(),
    name: 'web',
    body: { ...current, status: { targets: targets.map((name) => ({ kind: 'Deployment', name, injected: true })), targetSummary: targets.join(','), configured: `${targets.length}/${targets.length}`, conditions: [{ type: 'Ready', status, reason: 'Test', message: 'set by the test', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] } },
  });
}

function suite(): void {
  it('gets human tables with the familiar columns, and -o yaml / -o json', async () => {
    await kubectlOk(['create', '-f', '-'], configMapYaml('web', { a: '1', b: '2' }));
    await kubectlOk(['create', '-f', '-'], deploymentYaml(3));
    if (real) {
      await rolledOut(3); // the real Deployment controller, scheduler and kwok own the status
    } else {
      const deployment = await clients.apps.readNamespacedDeployment({ name: 'web', namespace: ns });
      await clients.apps.replaceNamespacedDeploymentStatus({ name: 'web', namespace: ns, body: { ...deployment, status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } } });
    }
    const [ready, available] = real ? ['3/3', '3'] : ['2/3', '2'];

    expect(tableRows(await kubectlOk(['get', 'configmaps']))).toEqual([['NAME', 'DATA', 'AGE'], ...systemConfigMaps, ['web', '2', expect.stringMatching(/^\d+s$/)]]);
    expect(tableRows(await kubectlOk(['get', 'deploy']))).toEqual([['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'], ['web', ready, '3', available, expect.stringMatching(/^\d+s$/)]]);
    // fake-vs-real (docs/e2e.md): kube-apiserver's wide table also has SELECTOR; the fake's has not.
    expect(tableRows(await kubectlOk(['get', 'deployment', 'web', '-o', 'wide']))[0]).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', ...(real ? ['SELECTOR'] : [])]);
    expect(tableRows(await kubectlOk(['get', 'cm', '-A'])).find((row) => row[0] === ns && row[1] === 'web')).toEqual([ns, 'web', '2', expect.any(String)]);
    expect(await kubectlOk(['get', 'all'])).toContain('deployment.apps/web');

    const asYaml = parse(await kubectlOk(['get', 'cm', 'web', '-o', 'yaml']));
    expect(asYaml).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'web', namespace: ns, uid: expect.any(String) }, data: { a: '1', b: '2' } });
    const asJson = JSON.parse(await kubectlOk(['get', 'configmaps', '-o', 'json']));
    expect(asJson).toMatchObject({ kind: 'List', items: [...systemConfigMaps.map(([name]) => ({ kind: 'ConfigMap', metadata: { name } })), { kind: 'ConfigMap', metadata: { name: 'web' } }] });

    const missing = await kubectl(['get', 'cm', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('configmaps "nope" not found');
  });

  it('watches with table rows (get -w)', async () => {
    await kubectlOk(['create', '-f', '-'], configMapYaml('web', { a: '1' }));
    const watching = startKubectl(['get', 'configmaps', '--watch']);
    await eventually(() => tableRows(watching.stdout()).length === 2 + systemConfigMaps.length, 20_000, 'the initial table');
    await kubectlOk(['patch', 'cm', 'web', '--type=merge', '-p', '{"data":{"b":"2"}}']);
    await eventually(() => tableRows(watching.stdout()).length === 3 + systemConfigMaps.length, 20_000, 'a row for the change');
    expect(tableRows(watching.stdout())).toEqual([['NAME', 'DATA', 'AGE'], ...systemConfigMaps, ['web', '1', expect.any(String)], ['web', '2', expect.any(String)]]);
    watching.child.kill('SIGTERM');
    await watching.done;
  });

  it('creates from a file and refuses a duplicate', async () => {
    expect(await kubectlOk(['create', '-f', '-'], configMapYaml('web', { a: '1' }))).toBe('configmap/web created\n');
    expect((await clients.core.readNamespacedConfigMap({ name: 'web', namespace: ns })).data).toEqual({ a: '1' });
    const duplicate = await kubectl(['create', '-f', '-'], configMapYaml('web', { a: '1' }));
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('AlreadyExists');

    // A server-side dry-run create goes through admission and is never written.
    expect(await kubectlOk(['create', '--dry-run=server', '-f', '-'], configMapYaml('dry', { a: '1' }))).toBe('configmap/dry created (server dry run)\n');
    expect(apiStatus(await clients.core.readNamespacedConfigMap({ name: 'dry', namespace: ns }).catch((error: unknown) => error))).toBe(404);
  });

  it('applies (client-side): creates, then patches three-way, then leaves an unchanged object alone', async () => {
    expect(await kubectlOk(['apply', '-f', '-'], deploymentYaml(2))).toBe('deployment.apps/web created\n');
    const created = await clients.apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    expect(created.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toContain('"replicas":2');

    // A change made by someone else survives the next apply (three-way merge), the applied change lands.
    await clients.apps.patchNamespacedDeployment({ name: 'web', namespace: ns, body: { metadata: { annotations: { 'other.io/owner': 'ops' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    expect(await kubectlOk(['apply', '-f', '-'], deploymentYaml(4, 'nginx:1.28'))).toBe('deployment.apps/web configured\n');
    const updated = await clients.apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    expect(updated.spec?.replicas).toBe(4);
    expect(updated.spec?.template.spec?.containers.map((container) => [container.name, container.image])).toEqual([['app', 'nginx:1.28'], ['log', 'busybox:1']]);
    expect(updated.metadata?.annotations?.['other.io/owner']).toBe('ops');
    // fake-vs-real (docs/e2e.md): kube-apiserver counts one more generation for this apply than the fake.
    expect(updated.metadata?.generation).toBe(real ? 3 : 2);

    // On a real cluster the Deployment controller writes status until the rollout is done.
    // Its last status writes (kwok's pods turning Ready) can still land after the rollout reads done, so
    // there the witness that the apply wrote nothing is the generation and the last-applied annotation.
    const settledVersion = real ? await rolledOut(4) : updated.metadata?.resourceVersion;
    expect(await kubectlOk(['apply', '-f', '-'], deploymentYaml(4, 'nginx:1.28'))).toBe('deployment.apps/web unchanged\n');
    const after = await clients.apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    if (real) {
      expect(after.metadata?.generation).toBe(updated.metadata?.generation);
      expect(after.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration']).toBe(updated.metadata?.annotations?.['kubectl.kubernetes.io/last-applied-configuration']);
    } else {
      expect(after.metadata?.resourceVersion).toBe(settledVersion);
    }
  });

  it('patches with --type=merge, json and strategic', async () => {
    await kubectlOk(['create', '-f', '-'], configMapYaml('web', { a: '1', b: '2' }));
    await kubectlOk(['create', '-f', '-'], deploymentYaml(1));
    expect(await kubectlOk(['patch', 'cm', 'web', '--type=merge', '-p', '{"data":{"a":null,"c":"3"}}'])).toBe('configmap/web patched\n');
    await kubectlOk(['patch', 'configmap', 'web', '--type=json', '-p', '[{"op":"replace","path":"/data/b","value":"two"}]']);
    expect((await clients.core.readNamespacedConfigMap({ name: 'web', namespace: ns })).data).toEqual({ b: 'two', c: '3' });

    // Strategic merge: containers merge by name, so the other container stays.
    await kubectlOk(['patch', 'deploy', 'web', '--type=strategic', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"nginx:2"}]}}}}']);
    const deployment = await clients.apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    expect(deployment.spec?.template.spec?.containers.map((container) => [container.name, container.image])).toEqual([['app', 'nginx:2'], ['log', 'busybox:1']]);

    // fake-vs-real (docs/e2e.md): kube-apiserver's JSON patch replaces a missing map key (exit 0); the fake refuses it.
    const bad = await kubectl(['patch', 'cm', 'web', '--type=json', '-p', '[{"op":"replace","path":"/data/missing","value":"x"}]']);
    expect(bad.code).toBe(real ? 0 : 1);
  });

  it('deletes and waits while a finalizer holds the object', async () => {
    await kubectlOk(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', namespace: ns, finalizers: ['test.io/hold'] } }));
    await kubectlOk(['create', '-f', '-'], configMapYaml('free', { a: '1' }));
    expect(await kubectlOk(['delete', 'cm', 'free'])).toContain('configmap "free" deleted');
    expect(apiStatus(await clients.core.readNamespacedConfigMap({ name: 'free', namespace: ns }).catch((error: unknown) => error))).toBe(404);

    const deleting = startKubectl(['delete', 'configmap', 'held', '--timeout=60s']);
    let exited = false;
    void deleting.done.then(() => { exited = true; });
    await eventually(async () => (await clients.core.readNamespacedConfigMap({ name: 'held', namespace: ns })).metadata?.deletionTimestamp !== undefined, 20_000, 'deletionTimestamp');
    // kubectl is now waiting for the object to go away; it is still there, so kubectl must still be waiting.
    await kubectlOk(['get', 'cm', 'held']);
    expect(exited).toBe(false);
    await clients.core.patchNamespacedConfigMap({ name: 'held', namespace: ns, body: { metadata: { finalizers: null } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const result = await deleting.done;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('configmap "held" deleted');
    expect(apiStatus(await clients.core.readNamespacedConfigMap({ name: 'held', namespace: ns }).catch((error: unknown) => error))).toBe(404);
  });

  it('describes an object with its events (field selectors on involvedObject)', async () => {
    await kubectlOk(['create', '-f', '-'], deploymentYaml(1));
    const deployment = await clients.apps.readNamespacedDeployment({ name: 'web', namespace: ns });
    const involvedObject = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ns, uid: deployment.metadata?.uid };
    await clients.core.createNamespacedEvent({ namespace: ns, body: { metadata: { name: 'web.1' }, involvedObject, reason: 'SidecarInjected', message: 'badgateway sidecar added', type: 'Normal', count: 1 } });
    await clients.core.createNamespacedEvent({ namespace: ns, body: { metadata: { name: 'other.1' }, involvedObject: { ...involvedObject, name: 'other', uid: 'x' }, reason: 'Elsewhere', message: 'not this one', type: 'Normal' } });
    const described = await kubectlOk(['describe', 'deployment', 'web']);
    expect(described).toMatch(/^Name:\s+web$/m);
    expect(described).toMatch(/Normal\s+SidecarInjected\s+.*badgateway sidecar added/);
    expect(described).not.toContain('Elsewhere');
    expect(tableRows(await kubectlOk(['get', 'events', '--field-selector', 'reason=SidecarInjected']))[1]).toEqual([expect.any(String), 'Normal', 'SidecarInjected', 'deployment/web', 'badgateway sidecar added']);
  });

  it('annotates and labels, and selects by label', async () => {
    await kubectlOk(['create', '-f', '-'], deploymentYaml(1));
    await kubectlOk(['create', '-f', '-'], configMapYaml('web', { a: '1' }));
    expect(await kubectlOk(['annotate', 'deployment', 'web', 'badgateway.io/inject=true'])).toBe('deployment.apps/web annotated\n');
    expect(await kubectlOk(['label', 'cm', 'web', 'tier=front'])).toBe('configmap/web labeled\n');
    expect((await clients.apps.readNamespacedDeployment({ name: 'web', namespace: ns })).metadata?.annotations?.['badgateway.io/inject']).toBe('true');
    expect((await clients.core.readNamespacedConfigMap({ name: 'web', namespace: ns })).metadata?.labels).toEqual({ tier: 'front' });
    expect(tableRows(await kubectlOk(['get', 'cm', '-l', 'tier in (front,back)', '--show-labels']))[1]).toEqual(['web', '1', expect.any(String), 'tier=front']);
    expect((await kubectl(['get', 'cm', '-l', 'tier=back'])).stderr).toContain('No resources found');

    await kubectlOk(['annotate', 'deployment', 'web', 'badgateway.io/inject-']);
    await kubectlOk(['label', 'cm', 'web', 'tier=back', '--overwrite']);
    expect((await clients.apps.readNamespacedDeployment({ name: 'web', namespace: ns })).metadata?.annotations?.['badgateway.io/inject']).toBeUndefined();
    expect((await clients.core.readNamespacedConfigMap({ name: 'web', namespace: ns })).metadata?.labels).toEqual({ tier: 'back' });
  });

  it('serves custom resources by plural, singular and short name, with the CRD printer columns', async () => {
    await installCrd();
    expect(await kubectlOk(['apply', '-f', '-'], policyYaml('  targetRef: { kind: Deployment, name: web }'))).toBe('badgatewaypolicy.badgateway.io/web created\n');
    await setPolicyReady('True', ['web', 'api']);
    // TARGETS reads status.targetSummary, one string: kube-apiserver prints only the first value of a `[*]` column (docs/e2e.md).
    const expected = [['NAME', 'TARGETS', 'CONFIGURED', 'READY', 'REASON', 'AGE'], ['web', 'web,api', '2/2', 'True', 'Test', expect.stringMatching(/^\d+s$/)]];
    expect(tableRows(await kubectlOk(['get', 'badgatewaypolicies']))).toEqual(expected);
    expect(tableRows(await kubectlOk(['get', 'bgwp', 'web']))).toEqual(expected);
    expect(tableRows(await kubectlOk(['get', 'badgatewaypolicy.badgateway.io/web']))).toEqual(expected);
    expect(tableRows(await kubectlOk(['get', 'bgwp', '-o', 'wide']))[0]).toEqual([...expected[0]!, 'DEGRADED', 'CONFIGMAP']);
    const asJson = JSON.parse(await kubectlOk(['get', 'bgwp', 'web', '-o', 'json']));
    expect(asJson).toMatchObject({ apiVersion: 'badgateway.io/v1alpha1', kind: 'BadGatewayPolicy', spec: { targetRef: { name: 'web' }, openStatus: 502 }, status: { conditions: [{ type: 'Ready' }] } });

    // A second apply is a JSON merge patch (custom resources have no strategic merge).
    expect(await kubectlOk(['apply', '-f', '-'], policyYaml('  targetRef: { kind: Deployment, name: web }\n  openStatus: 503'))).toBe('badgatewaypolicy.badgateway.io/web configured\n');
    expect(((await clients.custom.getNamespacedCustomObject({ ...policy(), name: 'web' })) as any).spec.openStatus).toBe(503);
    expect(await kubectlOk(['delete', 'bgwp', 'web'])).toContain('"web" deleted');
  });

  it('validates custom resources on the server: unknown fields (Strict by default, Warn on request) and schema violations', async () => {
    await installCrd();
    const strict = await kubectl(['apply', '-f', '-'], policyYaml('  bogus: 1'));
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('strict decoding error: unknown field "spec.bogus"');
    expect(apiStatus(await clients.custom.getNamespacedCustomObject({ ...policy(), name: 'web' }).catch((error: unknown) => error))).toBe(404);

    const warned = await kubectl(['create', '--validate=warn', '-f', '-'], policyYaml('  bogus: 1'));
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain('unknown field "spec.bogus"');
    expect(((await clients.custom.getNamespacedCustomObject({ ...policy(), name: 'web' })) as any).spec.bogus).toBeUndefined();

    const invalid = await kubectl(['apply', '-f', '-'], policyYaml('  openStatus: 404'));
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('spec.openStatus');
  });

  it('waits for a condition set through the status subresource', async () => {
    await installCrd();
    await kubectlOk(['create', '-f', '-'], policyYaml('  targetRef: { kind: Deployment, name: web }'));
    await setPolicyReady('False');
    const timedOut = await kubectl(['wait', '--for=condition=Ready', 'bgwp/web', '--timeout=1s']);
    expect(timedOut.code).toBe(1);
    expect(timedOut.stderr).toContain('timed out waiting for the condition');

    const waiting = startKubectl(['wait', '--for=condition=Ready', 'badgatewaypolicy/web', '--timeout=60s']);
    let exited = false;
    void waiting.done.then(() => { exited = true; });
    // Give kubectl a moment to have seen the False condition; it must keep waiting through it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(exited).toBe(false);
    await setPolicyReady('True');
    const result = await waiting.done;
    expect(result).toMatchObject({ code: 0, stdout: 'badgatewaypolicy.badgateway.io/web condition met\n' });
  });

  it('applies everything the Helm chart renders', async () => {
    const rendered = await new Promise<string>((resolve, reject) => {
      const helm = spawn(helmPath(), ['template', 'bgw', join(repoRoot, 'charts', 'badgateway'), '--namespace', ns], { env: { PATH: process.env.PATH ?? '', HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      helm.stdout.on('data', (data) => { stdout += String(data); });
      helm.on('error', reject);
      helm.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`helm template exited ${code}`))));
    });
    const kinds = parseAllDocuments(rendered).map((document) => document.toJS()).filter((object) => object !== null).map((object: any) => `${object.apiVersion}/${object.kind}`);
    expect(kinds).toEqual(expect.arrayContaining(['rbac.authorization.k8s.io/v1/Role', 'rbac.authorization.k8s.io/v1/ClusterRoleBinding', 'policy/v1/PodDisruptionBudget']));
    const applied = await kubectlOk(['apply', '-f', '-'], rendered);
    expect(applied.trim().split('\n')).toHaveLength(kinds.length);
    expect(applied).not.toMatch(/unchanged|configured/);
    expect(tableRows(await kubectlOk(['get', 'pdb']))[0]).toEqual(['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE']);
    expect(tableRows(await kubectlOk(['get', 'clusterrolebinding', 'bgw-badgateway']))[1]?.slice(0, 2)).toEqual(['bgw-badgateway', 'ClusterRole/bgw-badgateway']);
    // Re-applying changes nothing. kubectl always re-sends a PodDisruptionBudget's selector (its
    // patchStrategy is replace) and so says "configured"; the server must treat that as a no-op.
    const pdbVersion = () => kubectlOk(['get', 'pdb', 'bgw-badgateway', '-o', 'jsonpath={.metadata.resourceVersion}']);
    const before = await pdbVersion();
    const reapplied = (await kubectlOk(['apply', '-f', '-'], rendered)).trim().split('\n');
    expect(reapplied.filter((line) => !line.endsWith(' unchanged'))).toEqual(['poddisruptionbudget.policy/bgw-badgateway configured']);
    expect(await pdbVersion()).toBe(before);
    // The cluster-scoped objects outlive the namespace: removed for the next run on the same cluster.
    await kubectlOk(['delete', '-f', '-', '--ignore-not-found', '--wait=false'], rendered);
  });
}

describe('kubectl v1.35 against kube-apiserver', () => {
  beforeAll(() => { real = true; });
  suite();
});

describe('kubectl v1.35 against the test API server', () => {
  beforeAll(() => { real = false; });
  suite();
});

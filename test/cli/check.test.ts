/**
 * `badgateway check` (the built CLI) on a real control plane of this suite's own (check reads the
 * whole cluster: CRD, every namespace's Deployments and policies): an empty cluster, then the chart
 * installed with `helm install --wait` as a user does (kwok runs the operator's pods), the operator
 * itself running from the built code as the Deployment says, reached by kube-apiserver through its
 * webhook Service; then each fault staged for real and undone: the operator's pods unschedulable,
 * a bypassing Service, a gRPC Service newer than its Deployment's sidecar, a broken caBundle the
 * operator may not repair (its ClusterRole edited), an outdated CRD, a dead leader, a deleted
 * Deployment. None of them needs the test API server. Every
 * ✗ must come with its hint and a non-zero exit; `-o json` says the same.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { API_GROUP, API_VERSION, CRD_NAME, POLICY_PLURAL } from '../../api/names.js';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../operator/kube/clients.js';
import type { CheckReport } from '../../operator/check/run-checks.js';
import { cliEntry, eventually, runCli } from '../support/cli.js';
import { kubectlPath } from '../support/tools.js';
import { runReleasedOperator, type ReleasedOperator } from '../support/chart-release.js';
import { startToolRunner, type ToolRunner } from '../support/client-session.js';
import { CLUSTER_START_TIMEOUT_MS, clusterRequest, privateCluster, type Cluster, type PrivateCluster } from '../support/cluster.js';
import { chartDir, renderChart, type K8sObject } from '../support/helm.js';

const NAMESPACE = 'badgateway-system';
let controlPlane: PrivateCluster | undefined;
let cluster: Cluster;
let tools: ToolRunner;
let clients: KubeClients;
let release: ReleasedOperator | undefined;
/** What `helm install bgw charts/badgateway -n badgateway-system` creates. */
const rendered = renderChart();

beforeAll(async () => {
  controlPlane = privateCluster();
  cluster = await controlPlane.ready;
  tools = startToolRunner(cluster.kubeconfigPath);
  clients = createKubeClients(loadKubeConfig(cluster.kubeconfigPath));
}, CLUSTER_START_TIMEOUT_MS);
afterAll(async () => {
  await release?.close();
  await tools?.close();
  await controlPlane?.stop();
}, 60_000);

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data) => { stdout += String(data); });
    child.stderr.on('data', (data) => { stderr += String(data); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

async function check(): Promise<{ code: number | null; text: string; report: CheckReport }> {
  const env = { KUBECONFIG: cluster.kubeconfigPath };
  // Generous: on a loaded machine a CLI start alone can take seconds.
  const [text, json] = await Promise.all([runCli(['check'], { env, timeoutMs: 90_000 }), runCli(['check', '-o', 'json'], { env, timeoutMs: 90_000 })]);
  const report = JSON.parse(json.stdout) as CheckReport;
  // The two runs read the cluster at about the same moment; when they disagree, say which check
  // did. Seen once, right after the CRD test's update: kube-apiserver refuses lists of the policies
  // (429, "storage is (re)initializing") for a moment then, which check now retries (retry-after.ts).
  if (json.code !== text.code) {
    const failing = report.checks.filter((item) => item.status === 'fail').map((item) => `${item.name}: ${item.message}`);
    throw new Error(`check exited ${text.code}, check -o json ${json.code}; the json run's failing checks: ${failing.join('; ') || 'none'}\ntext run:\n${text.stdout}`);
  }
  expect(report.ok).toBe(text.code === 0);
  return { code: text.code, text: text.stdout, report };
}

/** The check's result, found by the start of its name. */
function result(report: CheckReport, name: string) {
  const found = report.checks.find((candidate) => candidate.name.startsWith(name));
  if (found === undefined) throw new Error(`no check "${name}" in ${JSON.stringify(report.checks.map((candidate) => candidate.name))}`);
  return found;
}

const failed = (report: CheckReport) => report.checks.filter((candidate) => candidate.status === 'fail').map((candidate) => candidate.name);

const operatorDeployment = rendered.find((object) => object.kind === 'Deployment') as K8sObject;

const availableOperators = async () => (await tools.kubectlOk(['-n', NAMESPACE, 'get', 'deployment', operatorDeployment.metadata.name, '-o', 'jsonpath={.status.availableReplicas}'])).trim();

/** Every node cordoned and the operator's pods deleted: their replacements stay Pending, as on a full cluster. */
async function starveOperatorPods(): Promise<void> {
  const nodes = (await tools.kubectlOk(['get', 'nodes', '-o', 'name'])).trim().split('\n');
  await tools.kubectlOk(['cordon', ...nodes]);
  await tools.kubectlOk(['-n', NAMESPACE, 'delete', 'pod', '-l', 'app.kubernetes.io/component=operator', '--wait=false']);
  await eventually(async () => await availableOperators() === '', 60_000, 'no operator replica available');
}

async function feedOperatorPods(): Promise<void> {
  await tools.kubectlOk(['uncordon', ...(await tools.kubectlOk(['get', 'nodes', '-o', 'name'])).trim().split('\n')]);
  await eventually(async () => await availableOperators() === '2', 60_000, 'both operator replicas available again');
}

async function policyStatus(name: string): Promise<Record<string, unknown>> {
  const policy = await clients.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: 'shop', plural: POLICY_PLURAL, name }) as { status?: Record<string, unknown> };
  return policy.status ?? {};
}

/** Takes `patch` on the webhook configuration from the operator's ClusterRole, or gives it back as the chart renders it. */
async function allowCaBundlePatch(allowed: boolean): Promise<void> {
  const role = rendered.find((object) => object.kind === 'ClusterRole') as K8sObject & { rules: { resources?: string[]; verbs: string[] }[] };
  const rules = role.rules.map((rule) => (allowed || !(rule.resources ?? []).includes('mutatingwebhookconfigurations') ? rule : { ...rule, verbs: rule.verbs.filter((verb) => verb !== 'patch') }));
  const current = await clients.objects.read({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: role.metadata.name } });
  await clients.objects.replace({ ...current, rules } as typeof current);
  // The authorizer reads RBAC through an informer: wait until it answers as the role now says.
  const serviceAccount = String(release?.deployment.spec?.template.spec?.serviceAccountName);
  const canPatch = async () => (await tools.kubectl(['auth', 'can-i', 'patch', `mutatingwebhookconfigurations/${release?.webhookConfigName}`, `--as=system:serviceaccount:${NAMESPACE}:${serviceAccount}`])).code === 0;
  await eventually(async () => await canPatch() === allowed, 30_000, `the operator ${allowed ? 'may' : 'may not'} patch its webhook configuration`);
}

describe('badgateway check', () => {
  it('bad flags: one line naming the flag, exit 2', async () => {
    const format = await runCli(['check', '-o', 'yaml'], { timeoutMs: 90_000 });
    expect({ code: format.code, stderr: format.stderr }).toEqual({ code: 2, stderr: 'badgateway: --output: "yaml" is not text or json\n' });
    const kubeconfig = await runCli(['check', '--kubeconfig', '/nonexistent/kubeconfig'], { timeoutMs: 90_000 });
    expect({ code: kubeconfig.code, stderr: kubeconfig.stderr }).toEqual({ code: 2, stderr: 'badgateway: --kubeconfig: /nonexistent/kubeconfig does not exist\n' });
    const environment = await runCli(['check'], { env: { KUBECONFIG: '/nonexistent/kubeconfig' }, timeoutMs: 90_000 });
    expect({ code: environment.code, stderr: environment.stderr }).toEqual({ code: 2, stderr: 'badgateway: cannot read the kubeconfig (KUBECONFIG=/nonexistent/kubeconfig): ENOENT\n' });
  }, 240_000);

  it('on an empty cluster: fails on the CRD and the operator, with hints, exit 1', async () => {
    const { code, text, report } = await check();
    expect(code).toBe(1);
    expect(result(report, 'Kubernetes API reachable').status).toBe('pass');
    expect(result(report, `CRD ${CRD_NAME}`)).toMatchObject({ status: 'fail', message: 'not found', hint: expect.stringContaining('helm install badgateway') });
    expect(result(report, 'operator Deployment available')).toMatchObject({ status: 'fail', hint: expect.stringContaining('helm install') });
    expect(result(report, 'BadGatewayPolicies Ready').status).toBe('skip');
    expect(result(report, 'webhook configuration present')).toMatchObject({ status: 'fail', message: 'MutatingWebhookConfiguration badgateway not found', hint: expect.stringContaining('helm upgrade --install') });
    expect(text).toMatch(/^✗ CRD badgatewaypolicies.badgateway.io installed at v1alpha1: not found\n {4}hint: /m);
    expect(text).toMatch(/^✓ Kubernetes API reachable: server v1\.35\.\d+ at https:\/\/127\.0\.0\.1:\d+/m);
    expect(text).toMatch(/Status check results are ✗ \(\d+ failed\)\n$/);
  }, 240_000);

  it('on a healthy install with the operator running: every check passes, exit 0', async () => {
    // As docs/install.md says; --wait: the real Deployment controller, scheduler and kwok make both replicas available.
    await tools.helmOk(['install', 'bgw', chartDir, '-n', NAMESPACE, '--create-namespace', '--wait', '--timeout', '120s']);
    release = await runReleasedOperator(cluster, tools, NAMESPACE, 'bgw-badgateway-0');
    const running = release.operator;

    await tools.kubectlOk(['create', 'namespace', 'shop']);
    await tools.kubectlOk(['apply', '-n', 'shop', '-f', join(chartDir, 'examples', 'web.yaml')]);
    let webStatus: Record<string, unknown> = {};
    await eventually(async () => {
      webStatus = await policyStatus('web');
      return ((webStatus as { conditions?: Array<{ type: string; status: string }> }).conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True');
    }, 60_000, () => `example policy Ready (status: ${JSON.stringify(webStatus)})`);
    await eventually(async () => (await check()).code === 0, 90_000, 'check passes');

    const { text, report } = await check();
    expect(failed(report)).toEqual([]);
    expect(result(report, 'operator leader elected').message).toMatch(/^bgw-badgateway-0 holds Lease badgateway-system\/bgw-badgateway-leader/);
    expect(result(report, 'webhook caBundle valid').message).toMatch(/CA ".*badgateway-webhook-ca.*" valid until/);
    expect(result(report, 'webhook reachable').message).toContain('got a sidecar back');
    expect(result(report, 'policy shop/web Ready').status).toBe('pass');
    expect(text).toMatch(/Status check results are ✓\n$/);
    expect(text).not.toMatch(/^✗/m);

    // The running operator's metrics, as the ServiceMonitor scrapes them: what the alerts and the dashboard read.
    const metricsPort = running.args.find((arg) => arg.startsWith('--metrics-port='))!.split('=')[1];
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1]);
    expect(value('badgateway_operator_webhook_requests_total{result="patched"}')).toBeGreaterThanOrEqual(1);
    expect(value('badgateway_operator_webhook_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(value('badgateway_operator_webhook_certificate_expiry_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000 + 300 * 86_400);
    expect(value('badgateway_operator_policies{condition="Ready",status="True"}')).toBe(1);
  }, 300_000);

  it('runs as a kubectl plugin: `kubectl badgateway check`, with kubectl-badgateway on the PATH', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'bgw-plugin-'));
    symlinkSync(cliEntry, join(bin, 'kubectl-badgateway'));
    const env = { ...process.env, KUBECONFIG: cluster.kubeconfigPath, PATH: [bin, dirname(process.execPath), process.env.PATH].join(delimiter) };
    const plugins = spawnSync(kubectlPath(), ['plugin', 'list'], { env, encoding: 'utf8' });
    expect(plugins.stdout).toContain(join(bin, 'kubectl-badgateway'));
    // Asynchronously: the webhook Service's proxy the check reaches runs in this process.
    const result = await run(kubectlPath(), ['badgateway', 'check'], env);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(result.stdout).toMatch(/^✓ webhook reachable/m);
    expect(result.stdout).toMatch(/Status check results are ✓\n$/);
  }, 240_000);

  it('an operator Deployment with no replica available fails with how to look', async () => {
    await starveOperatorPods();
    const { code, report } = await check();
    await feedOperatorPods();
    expect(code).toBe(1);
    expect(failed(report)).toEqual(['operator Deployment available']);
    expect(result(report, 'operator Deployment available')).toMatchObject({
      message: 'badgateway-system/bgw-badgateway: 0 of 2 replicas available',
      hint: expect.stringContaining('kubectl -n badgateway-system logs deployment/bgw-badgateway'),
    });
  }, 240_000);

  it('a Service that bypasses the sidecar fails, naming it', async () => {
    await clients.core.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'web-direct' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 as never }] } } });
    await eventually(async () => JSON.stringify(await policyStatus('web')).includes('web-direct'), 60_000, 'bypass in the policy status');
    const { code, report } = await check();
    await clients.core.deleteNamespacedService({ namespace: 'shop', name: 'web-direct' });
    expect(code).toBe(1);
    expect(result(report, 'Services route through the sidecar')).toMatchObject({ status: 'fail', message: expect.stringContaining('shop/web-direct (targetPort 8080)'), hint: expect.stringContaining('targetPort') });
    await eventually(async () => !JSON.stringify(await policyStatus('web')).includes('web-direct'), 60_000, 'bypass cleared');
  }, 240_000);

  it('a gRPC Service created after its Deployment was injected fails until the Deployment rolls, as the hint says', async () => {
    const NAME = 'injected sidecars speak the app\'s protocol';
    const webProtocol = async () => {
      const web = await clients.apps.readNamespacedDeployment({ namespace: 'shop', name: 'web' });
      const args = web.spec?.template.spec?.initContainers?.find((container) => container.name === 'badgateway')?.args ?? [];
      return args.includes('--app-protocol') ? args[args.indexOf('--app-protocol') + 1] : 'http1';
    };
    expect(await webProtocol()).toBe('http1');
    await clients.core.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'web-grpc' }, spec: { selector: { app: 'web' }, ports: [{ port: 50051, targetPort: 'http' as never, appProtocol: 'grpc' }] } } });
    const { code, report } = await check();
    expect(code).toBe(1);
    expect(failed(report)).toEqual([NAME]);
    expect(result(report, NAME)).toMatchObject({
      message: 'shop/web runs http1, injection now chooses h2c (Service web-grpc (appProtocol grpc))',
      hint: expect.stringContaining('kubectl -n shop rollout restart deployment web'),
    });
    // The hint's command, until the webhook's Service informer has the new Service.
    const restart = async (protocol: string) => eventually(async () => {
      await tools.kubectlOk(['-n', 'shop', 'rollout', 'restart', 'deployment', 'web']);
      return await webProtocol() === protocol;
    }, 60_000, `web rolled with --app-protocol ${protocol}`);
    await restart('h2c');
    expect(result((await check()).report, NAME).status).toBe('pass');
    // Undone: without the Service, the h2c sidecar is what is out of date, until the next rollout.
    await clients.core.deleteNamespacedService({ namespace: 'shop', name: 'web-grpc' });
    expect(result((await check()).report, NAME)).toMatchObject({ status: 'fail', message: 'shop/web runs h2c, injection now chooses http1 (default)' });
    await restart('http1');
    await eventually(async () => (await check()).code === 0, 90_000, 'check passes again');
  }, 300_000);

  it('a broken caBundle: the webhook is unverifiable and unreachable, a Deployment written meanwhile is not injected and its policy not Ready', async () => {
    // The operator puts back a caBundle it may patch within seconds: the fault lasts while it may not (the hint's case).
    await allowCaBundlePatch(false);
    const config = await clients.admission.readMutatingWebhookConfiguration({ name: 'bgw-badgateway' });
    const good = config.webhooks![0]!.clientConfig.caBundle!;
    const setBundle = (value: string) => clients.admission.patchMutatingWebhookConfiguration(
      { name: 'bgw-badgateway', body: [{ op: 'replace', path: '/webhooks/0/clientConfig/caBundle', value }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    await setBundle(Buffer.from('not a certificate').toString('base64'));
    // kube-apiserver reads webhook configurations through an informer: a Deployment written before it sees the new bundle is still injected.
    await eventually(async () => {
      await clients.apps.deleteNamespacedDeployment({ namespace: 'shop', name: 'late' }).catch(() => undefined);
      const late = await clients.apps.createNamespacedDeployment({
        namespace: 'shop',
        body: {
          metadata: { name: 'late', annotations: { 'badgateway.io/inject': 'true' } },
          spec: { selector: { matchLabels: { app: 'late' } }, template: { metadata: { labels: { app: 'late' } }, spec: { containers: [{ name: 'late', image: 'late:1', ports: [{ name: 'http', containerPort: 8080 }] }] } } },
        },
      });
      return (late.spec?.template.spec?.initContainers ?? []).length === 0;
    }, 60_000, 'a Deployment admitted without the sidecar');
    await clients.custom.createNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace: 'shop', plural: POLICY_PLURAL, body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'BadGatewayPolicy', metadata: { name: 'late' }, spec: { targetRef: { kind: 'Deployment', name: 'late' } } } });
    await eventually(async () => JSON.stringify(await policyStatus('late')).includes('TargetsNotInjected'), 60_000, 'late policy not Ready');

    const { code, text, report } = await check();
    expect(code).toBe(1);
    expect(failed(report)).toEqual(['webhook caBundle valid', 'webhook reachable (dry-run injection)', 'policy shop/late Ready', 'Deployments annotated for injection are injected']);
    expect(result(report, 'webhook caBundle valid')).toMatchObject({ message: 'caBundle is not a PEM certificate', hint: expect.stringContaining('cannot patch the webhook caBundle') });
    expect(result(report, 'webhook reachable')).toMatchObject({ message: expect.stringContaining('admitted without a sidecar'), hint: expect.stringContaining('badgateway-system/bgw-badgateway-webhook') });
    expect(result(report, 'policy shop/late Ready')).toMatchObject({ message: expect.stringContaining('TargetsNotInjected'), hint: expect.stringContaining('rollout restart') });
    expect(result(report, 'Deployments annotated')).toMatchObject({ message: 'not injected: shop/late', hint: expect.stringContaining('kubectl -n shop rollout restart deployment late') });
    expect(text.match(/^✗/gm)).toHaveLength(4);
    expect(text.match(/^ {4}hint: /gm)).toHaveLength(4);

    // Undone: the webhook answers again, and re-writing the Deployment (what `rollout restart` does) injects it.
    await allowCaBundlePatch(true);
    await setBundle(good);
    await clients.apps.patchNamespacedDeployment(
      { namespace: 'shop', name: 'late', body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await eventually(async () => (await check()).code === 0, 90_000, 'check passes again');
  }, 300_000);

  it('a CRD whose schema is not this version\'s fails with how to upgrade it', async () => {
    const crd = await clients.custom.getClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', name: CRD_NAME }) as { spec: { versions: { schema: { openAPIV3Schema: { properties: { spec: { properties: Record<string, unknown> } } } } }[] } };
    const properties = crd.spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties;
    const retry = properties.retry;
    delete properties.retry;
    await clients.custom.replaceClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', name: CRD_NAME, body: crd });
    const { code, report } = await check();
    properties.retry = retry;
    const current = await clients.custom.getClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', name: CRD_NAME }) as { metadata: { resourceVersion: string } };
    await clients.custom.replaceClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', name: CRD_NAME, body: { ...crd, metadata: { ...(crd as unknown as { metadata: object }).metadata, resourceVersion: current.metadata.resourceVersion } } });
    expect(code).toBe(1);
    expect(result(report, `CRD ${CRD_NAME}`)).toMatchObject({ status: 'fail', message: expect.stringContaining('schema is not this badgateway version\'s'), hint: 'Helm does not upgrade CRDs: badgateway crd | kubectl apply -f -' });
    expect((await check()).code).toBe(0);
  }, 240_000);

  it('no leader: the operator stopped and its Lease expired', async () => {
    await release?.close();
    release = undefined;
    // Last renewed a minute ago, as a crashed leader leaves it (a MicroTime, as the apiserver wants).
    const path = `/apis/coordination.k8s.io/v1/namespaces/${NAMESPACE}/leases/bgw-badgateway-leader`;
    const lease = (await clusterRequest(cluster, 'GET', path)).body as { spec: Record<string, unknown> };
    const renewTime = new Date(Date.now() - 60_000).toISOString().replace(/Z$/, '000Z');
    expect((await clusterRequest(cluster, 'PUT', path, { ...lease, spec: { ...lease.spec, renewTime } })).status).toBe(200);
    const { code, report } = await check();
    expect(code).toBe(1);
    expect(result(report, 'operator leader elected')).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/held by bgw-badgateway-0 was last renewed ([6-9]\d|\d{3,})s ago \(lease 15s\): no replica is leading/),
      hint: expect.stringContaining('logs deployment/bgw-badgateway'),
    });
  }, 240_000);

  it('without the operator Deployment, still finds the webhook configuration by the chart\'s labels', async () => {
    await clients.apps.deleteNamespacedDeployment({ namespace: 'badgateway-system', name: operatorDeployment.metadata.name });
    const { code, report } = await check();
    expect(code).toBe(1);
    expect(result(report, 'operator Deployment available').status).toBe('fail');
    expect(result(report, 'operator leader elected').status).toBe('skip');
    expect(result(report, 'webhook configuration present')).toMatchObject({ status: 'pass', message: expect.stringMatching(/^bgw-badgateway: 1 webhook/) });
  }, 240_000);
});

/**
 * `badgateway check` (the built CLI) against the test API server: an empty cluster, then the chart
 * installed with the operator running as its Deployment says (webhook called by the API server's
 * own admission), then each fault staged and undone. Every ✗ must come with its hint and a
 * non-zero exit; `-o json` says the same.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { API_GROUP, API_VERSION, CRD_NAME, POLICY_PLURAL } from '../../api/names.js';
import type { KubeClients } from '../../operator/kube/clients.js';
import type { CheckReport } from '../../operator/check/run-checks.js';
import { startTestApiServer, type TestApiServer } from '../support/apiserver/index.js';
import { cliEntry, eventually, repoRoot, runCli } from '../support/cli.js';
import { kubectlPath } from '../support/tools.js';
import { applyManifests, startOperatorFromChart, type RunningOperator } from '../support/cluster-stand-in.js';
import { renderChart, type K8sObject } from '../support/helm.js';
import { clientsFor } from '../reliability/operator-harness.js';

let api: TestApiServer;
let clients: KubeClients;
let operator: RunningOperator | undefined;
const rendered = renderChart();

beforeAll(async () => {
  api = await startTestApiServer();
  clients = clientsFor(api.kubeconfigPath);
});
afterAll(async () => {
  operator?.stop();
  await api.close();
});

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
  const env = { KUBECONFIG: api.kubeconfigPath };
  // Generous: on a loaded machine a CLI start alone can take seconds.
  const [text, json] = await Promise.all([runCli(['check'], { env, timeoutMs: 90_000 }), runCli(['check', '-o', 'json'], { env, timeoutMs: 90_000 })]);
  const report = JSON.parse(json.stdout) as CheckReport;
  expect(json.code).toBe(text.code);
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

async function setOperatorAvailable(available: number): Promise<void> {
  await clients.apps.patchNamespacedDeploymentStatus(
    { namespace: 'badgateway-system', name: operatorDeployment.metadata.name, body: { status: { replicas: 2, readyReplicas: available, availableReplicas: available } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
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
    expect(text).toMatch(/^✓ Kubernetes API reachable: server v1\.30\.0/m);
    expect(text).toMatch(/Status check results are ✗ \(\d+ failed\)\n$/);
  }, 240_000);

  it('on a healthy install with the operator running: every check passes, exit 0', async () => {
    expect((await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'badgateway-system' } } as K8sObject)).status).toBe(201);
    expect(await applyManifests(api, rendered)).toEqual([]);
    const webhookConfig = rendered.find((object) => object.kind === 'MutatingWebhookConfiguration') as K8sObject & { webhooks: { clientConfig: { service: { namespace: string; name: string } } }[] };
    const serviceAccount = (operatorDeployment as { spec?: { template?: { spec?: { serviceAccountName?: string } } } }).spec?.template?.spec?.serviceAccountName ?? '';
    operator = await startOperatorFromChart(operatorDeployment, api.serviceAccountKubeconfig('badgateway-system', serviceAccount), 'bgw-badgateway-0');
    const { service } = webhookConfig.webhooks[0]!.clientConfig;
    api.routeService(service.namespace, service.name, operator.webhookPort);
    const running = operator;
    await eventually(() => /webhook listening/.test(running.output()), 60_000, () => `webhook listening (operator output: ${running.output().slice(-400)})`);
    // The Deployment controller and kubelet are not modelled: report the replicas available, as they would.
    await setOperatorAvailable(2);

    const example = parseAllDocuments(readFileSync(join(repoRoot, 'charts', 'badgateway', 'examples', 'web.yaml'), 'utf8')).map((document) => document.toJS() as K8sObject);
    expect((await api.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } } as K8sObject)).status).toBe(201);
    for (const object of example) expect((await api.create(object)).status).toBe(201);
    await eventually(async () => JSON.stringify(await policyStatus('web')).includes('"type":"Ready","status":"True"'), 60_000, 'example policy Ready');
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
    const env = { ...process.env, KUBECONFIG: api.kubeconfigPath, PATH: [bin, dirname(process.execPath), process.env.PATH].join(delimiter) };
    const plugins = spawnSync(kubectlPath(), ['plugin', 'list'], { env, encoding: 'utf8' });
    expect(plugins.stdout).toContain(join(bin, 'kubectl-badgateway'));
    // Asynchronously: the test API server answering the plugin runs in this process.
    const result = await run(kubectlPath(), ['badgateway', 'check'], env);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(result.stdout).toMatch(/^✓ webhook reachable/m);
    expect(result.stdout).toMatch(/Status check results are ✓\n$/);
  }, 240_000);

  it('an operator Deployment with no replica available fails with how to look', async () => {
    await setOperatorAvailable(0);
    const { code, report } = await check();
    await setOperatorAvailable(2);
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
    await clients.apps.createNamespacedDeployment({
      namespace: 'shop',
      body: {
        metadata: { name: 'late', annotations: { 'badgateway.io/inject': 'true' } },
        spec: { selector: { matchLabels: { app: 'late' } }, template: { metadata: { labels: { app: 'late' } }, spec: { containers: [{ name: 'late', image: 'late:1', ports: [{ name: 'http', containerPort: 8080 }] }] } } },
      },
    });
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
    operator?.stop();
    operator = undefined;
    const lease = await clients.coordination.readNamespacedLease({ namespace: 'badgateway-system', name: 'bgw-badgateway-leader' });
    await clients.coordination.replaceNamespacedLease({ namespace: 'badgateway-system', name: 'bgw-badgateway-leader', body: { ...lease, spec: { ...lease.spec, renewTime: new Date(Date.now() - 60_000) } } });
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

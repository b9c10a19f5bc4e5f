/**
 * Injection through kube-apiserver itself: the chart's MutatingWebhookConfiguration (rules,
 * namespaceSelector, CEL matchConditions compiled by the real server) reaches the operator's webhook
 * at a `url` the test owns, as envtest does; the webhook runs as the chart's ServiceAccount, with a
 * serving certificate from a CA the test put in caBundle (as cert-manager's cainjector would). The
 * real controllers then roll the injected pod template out onto kwok's nodes, so the apiserver's pod
 * validation judges what the webhook wrote. The `service:` reference and the self-signed caBundle
 * bootstrap are tested through the test API server (through-apiserver.test.ts). The webhook reads
 * the Services' `appProtocol` from its own informer, as that ServiceAccount.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PatchStrategy, setHeaderOptions, type V1Deployment, type V1Service } from '@kubernetes/client-node';
import { silentLogger } from '../../../api/logger.js';
import { generateCa, generateServingCert } from '../../../operator/certs/generate.js';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../../operator/kube/clients.js';
import { apiStatus } from '../../../operator/kube/errors.js';
import { DEFAULT_INJECTION_SETTINGS } from '../../../operator/inject/settings.js';
import { startWebhook, type RunningWebhook } from '../../../operator/webhook/index.js';
import { eventually, repoRoot } from '../../support/cli.js';
import { startToolRunner, type Run, type ToolRunner } from '../../support/client-session.js';
import { CLUSTER_START_TIMEOUT_MS, clusterRequest, sharedCluster, type Cluster } from '../../support/cluster.js';
import { createNamespace, deleteNamespace } from '../../support/cluster-objects.js';
import { installOperatorIdentity, type OperatorIdentity } from '../../support/cluster-operator.js';
import { CASES, deployment } from '../../support/fixtures/deployments.js';
import { renderChart, type K8sObject } from '../../support/helm.js';
import { ensurePolicyCrd } from '../../support/policy-crd.js';

jest.setTimeout(90_000);

interface WebhookConfig extends K8sObject { webhooks: Array<Record<string, unknown> & { clientConfig: Record<string, unknown> }> }

let cluster: Cluster;
let operator: OperatorIdentity;
let operatorNamespace: string;
let shop: string;
let clients: KubeClients;
let webhook: RunningWebhook | undefined;
let webhookConfig: WebhookConfig;
let certDir: string;
let caPem: string;
let tools: ToolRunner;
const CONFIG_PATH = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';

beforeAll(async () => {
  cluster = await sharedCluster();
  await ensurePolicyCrd(cluster);
  operatorNamespace = await createNamespace(cluster, 'bgw-system');
  shop = await createNamespace(cluster, 'shop');
  operator = await installOperatorIdentity(cluster, operatorNamespace, ['--set', `operator.watchNamespace=${shop}`]);
  clients = createKubeClients(loadKubeConfig(cluster.kubeconfigPath));
  // Scoped to the test's namespace by the chart's own watchNamespace value: parallel test files never meet this webhook.
  webhookConfig = renderChart(['--set', `operator.watchNamespace=${shop}`], operatorNamespace, operatorNamespace)
    .find((object) => object.kind === 'MutatingWebhookConfiguration') as WebhookConfig;
  const ca = await generateCa('badgateway-test-webhook-ca');
  const serving = await generateServingCert(ca, ['localhost']);
  caPem = ca.certPem;
  certDir = mkdtempSync(join(tmpdir(), 'webhook-certs-'));
  writeFileSync(join(certDir, 'tls.crt'), serving.certPem);
  writeFileSync(join(certDir, 'tls.key'), serving.keyPem, { mode: 0o600 });
  tools = startToolRunner(cluster.kubeconfigPath);
}, CLUSTER_START_TIMEOUT_MS);

afterAll(async () => {
  await tools?.close();
  await webhook?.close();
  await clusterRequest(cluster, 'DELETE', `${CONFIG_PATH}/${webhookConfig.metadata.name}`);
  await operator?.remove();
  await deleteNamespace(cluster, shop);
  await deleteNamespace(cluster, operatorNamespace);
  rmSync(certDir, { recursive: true, force: true });
});

/** (Re)starts the webhook as the operator's ServiceAccount and points the configuration at it. */
async function install(failurePolicy?: 'Fail' | 'Ignore'): Promise<void> {
  await webhook?.close();
  webhook = await startWebhook({
    clients: createKubeClients(loadKubeConfig(operator.kubeconfigPath)), namespace: operatorNamespace, port: 0, host: '127.0.0.1',
    serviceName: 'unused', secretName: 'unused', webhookConfigName: webhookConfig.metadata.name, certMode: 'external', certDir,
    injection: DEFAULT_INJECTION_SETTINGS, logger: silentLogger(),
  });
  const config = {
    ...webhookConfig,
    webhooks: webhookConfig.webhooks.map((hook) => ({
      ...hook,
      ...(failurePolicy === undefined ? {} : { failurePolicy }),
      clientConfig: { url: `https://localhost:${webhook!.port}/mutate`, caBundle: Buffer.from(caPem).toString('base64') },
    })),
  };
  await clusterRequest(cluster, 'DELETE', `${CONFIG_PATH}/${webhookConfig.metadata.name}`);
  const created = await clusterRequest(cluster, 'POST', CONFIG_PATH, config);
  expect(created.status).toBe(201);
}

const inShop = (name: string): V1Deployment => ({ ...CASES[name]!, metadata: { ...CASES[name]!.metadata, namespace: shop } });
const containerNames = (deployment: V1Deployment) => ({
  init: (deployment.spec?.template.spec?.initContainers ?? []).map((container) => container.name),
  main: deployment.spec?.template.spec?.containers.map((container) => container.name),
});
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/**
 * The webhook configuration is read by the apiserver through an informer, and a new Service reaches
 * the webhook through its own: the first request may miss either.
 */
async function createUntil(body: V1Deployment, admitted: (created: V1Deployment) => boolean, what: (last: V1Deployment | undefined) => string): Promise<V1Deployment> {
  let created: V1Deployment | undefined;
  await eventually(async () => {
    await clients.apps.deleteNamespacedDeployment({ name: body.metadata!.name!, namespace: shop }).catch(() => undefined);
    created = await clients.apps.createNamespacedDeployment({ namespace: shop, body });
    return admitted(created);
  }, 20_000, () => what(created));
  return created!;
}

const createAdmitted = (body: V1Deployment, expected: string[]): Promise<V1Deployment> => createUntil(
  body,
  (created) => JSON.stringify(containerNames(created).init) === JSON.stringify(expected),
  (last) => `admission with init containers ${expected.join(',')} (last: ${JSON.stringify(last && containerNames(last))})`,
);

describe('injection through kube-apiserver', () => {
  it('injects an annotated Deployment, and the real controllers roll the injected pods out Ready on kwok nodes', async () => {
    await install();
    const created = await createAdmitted(inShop('named-http-port'), ['badgateway']);
    expect(containerNames(created)).toEqual({ init: ['badgateway'], main: ['web'] });
    const sidecar = created.spec?.template.spec?.initContainers?.[0];
    expect(sidecar?.restartPolicy).toBe('Always');
    expect(sidecar?.ports?.[0]).toMatchObject({ name: 'http', containerPort: 8502 });
    // The apiserver's own defaulting ran after the patch, as on any cluster.
    expect(sidecar?.terminationMessagePath).toBe('/dev/termination-log');
    expect(created.spec?.template.spec?.containers[0]?.ports?.[0]).toMatchObject({ name: 'http-app', containerPort: 8080 });
    expect(created.metadata?.annotations?.['badgateway.io/injected']).toBeDefined();
    await eventually(async () => {
      const current = await clients.apps.readNamespacedDeployment({ name: 'web', namespace: shop });
      return (current.status?.readyReplicas ?? 0) >= 1;
    }, 60_000, 'the injected Deployment Ready (ReplicaSet, scheduler, kwok)');
    const pods = await clients.core.listNamespacedPod({ namespace: shop });
    const pod = pods.items.find((item) => item.metadata?.name?.startsWith('web-'));
    expect(pod?.spec?.initContainers?.map((container) => container.name)).toEqual(['badgateway']);
    expect(pod?.spec?.nodeName).toMatch(/^kwok-node-/);
  });

  it('injects when an existing Deployment is annotated and restores it when the annotation is removed', async () => {
    await install();
    const original = await createAdmitted(inShop('not-annotated'), []);
    expect(containerNames(original)).toEqual({ init: [], main: ['plain'] });
    const annotated = await clients.apps.patchNamespacedDeployment({ name: 'plain', namespace: shop, body: { metadata: { annotations: { 'badgateway.io/inject': 'true' } } } }, mergePatch);
    expect(containerNames(annotated)).toEqual({ init: ['badgateway'], main: ['plain'] });
    expect(annotated.metadata?.generation).toBe(2);
    const restored = await clients.apps.patchNamespacedDeployment({ name: 'plain', namespace: shop, body: { metadata: { annotations: { 'badgateway.io/inject': null } } } }, mergePatch);
    expect(restored.spec?.template).toEqual(original.spec?.template);
    expect(Object.keys(restored.metadata?.annotations ?? {}).filter((key) => key.startsWith('badgateway.io/'))).toEqual([]);
  });

  it('with the webhook down, admits unchanged under the chart default (Ignore) and refuses under Fail', async () => {
    await install();
    await webhook!.close();
    webhook = undefined;
    const admitted = await clients.apps.createNamespacedDeployment({ namespace: shop, body: { ...inShop('named-http-port'), metadata: { ...inShop('named-http-port').metadata, name: 'web-down' } } });
    expect(containerNames(admitted)).toEqual({ init: [], main: ['web'] });

    await install('Fail');
    await webhook!.close();
    webhook = undefined;
    let refused: unknown;
    await eventually(async () => {
      refused = await clients.apps.createNamespacedDeployment({ namespace: shop, body: inShop('existing-prestop') }).catch((error: unknown) => error);
      if (apiStatus(refused) === undefined) await clients.apps.deleteNamespacedDeployment({ name: 'legacy', namespace: shop });
      return apiStatus(refused) === 500;
    }, 20_000, () => `a refusal under Fail (last: ${String((refused as { body?: unknown })?.body)})`);
    expect(String((refused as { body?: unknown }).body)).toContain('failed calling webhook');
  });

  it('never sends the release namespace to the webhook', async () => {
    await install();
    await createAdmitted(inShop('named-http-port'), ['badgateway']); // the configuration is in effect
    const own = { ...CASES['named-http-port']!, metadata: { ...CASES['named-http-port']!.metadata, name: 'own', namespace: operatorNamespace } };
    const created = await clients.apps.createNamespacedDeployment({ namespace: operatorNamespace, body: own });
    expect(containerNames(created)).toEqual({ init: [], main: ['web'] });
  });

  describe('the app protocol from the Services\' appProtocol', () => {
    // A gRPC app whose port name says nothing: only a Service can tell.
    const orders = (): V1Deployment => {
      const body = deployment('orders', { containers: [{ name: 'orders', image: 'shop/orders:1', ports: [{ name: 'api', containerPort: 50051 }] }] });
      return { ...body, metadata: { ...body.metadata, namespace: shop } };
    };
    const ordersService = (name: string, appProtocol: string): V1Service => ({
      metadata: { name, namespace: shop },
      spec: { selector: { app: 'orders' }, ports: [{ name: 'api', port: 80, targetPort: 'api', appProtocol }] },
    });
    const appProtocolOf = (injected: V1Deployment | undefined): string => {
      const args = injected?.spec?.template.spec?.initContainers?.find((container) => container.name === 'badgateway')?.args ?? [];
      return args.includes('--app-protocol') ? args[args.indexOf('--app-protocol') + 1]! : 'http1';
    };
    const services: string[] = [];
    const createService = async (name: string, appProtocol: string): Promise<void> => {
      await clients.core.createNamespacedService({ namespace: shop, body: ordersService(name, appProtocol) });
      services.push(name);
    };

    afterEach(async () => {
      for (const name of services.splice(0)) await clients.core.deleteNamespacedService({ name, namespace: shop });
      await clients.apps.deleteNamespacedDeployment({ name: 'orders', namespace: shop }).catch(() => undefined);
    });

    it('sets --app-protocol h2c from a Service with appProtocol grpc that targets the app port', async () => {
      await install();
      await createService('orders', 'grpc');
      const created = await createUntil(orders(), (injected) => appProtocolOf(injected) === 'h2c', (last) => `--app-protocol h2c (last: ${appProtocolOf(last)})`);
      expect(containerNames(created)).toEqual({ init: ['badgateway'], main: ['orders'] });
      expect(created.spec?.template.spec?.initContainers?.[0]?.args).toEqual(expect.arrayContaining(['--app-protocol', 'h2c']));
      // The sidecar took the port's name over: the Service now routes through it.
      expect(created.spec?.template.spec?.initContainers?.[0]?.ports?.[0]).toMatchObject({ name: 'api', containerPort: 8502 });
    });

    it('reads a Service created after the Deployment at its next rollout, by the command docs/annotations.md gives', async () => {
      const documented = /^kubectl rollout restart .*$/m.exec(readFileSync(join(repoRoot, 'docs', 'annotations.md'), 'utf8'))?.[0];
      expect(documented).toBe('kubectl rollout restart deployment/orders -n shop');
      await install();
      const created = await createAdmitted(orders(), ['badgateway']);
      expect(appProtocolOf(created)).toBe('http1');
      await createService('orders', 'kubernetes.io/h2c');
      const args = documented!.split(' ').slice(1).map((word) => (word === 'shop' ? shop : word));
      let current: V1Deployment | undefined;
      await eventually(async () => {
        await tools.kubectlOk(args);
        current = await clients.apps.readNamespacedDeployment({ name: 'orders', namespace: shop });
        return appProtocolOf(current) === 'h2c';
      }, 20_000, () => `--app-protocol h2c after a rollout restart (last: ${appProtocolOf(current)})`);
    });

    it('tells the user through kubectl when two Services disagree, and the oldest decides', async () => {
      await install();
      await createService('orders-a', 'grpc');
      await createService('orders-b', 'http');
      let run: Run | undefined;
      await eventually(async () => {
        await clients.apps.deleteNamespacedDeployment({ name: 'orders', namespace: shop }).catch(() => undefined);
        run = await tools.kubectl(['create', '-f', '-'], JSON.stringify(orders()));
        return run.code === 0 && run.stderr.includes('disagree');
      }, 20_000, () => `a warning from kubectl create (last: ${JSON.stringify(run)})`);
      // Older by creation time or, within the same second, by name: orders-a either way.
      expect(run!.stderr).toContain('Warning: badgateway: Service orders-a (appProtocol grpc) and Service orders-b (appProtocol http) disagree: '
        + 'the oldest, orders-a, decides (h2c); annotate badgateway.io/app-protocol to choose');
      expect(appProtocolOf(await clients.apps.readNamespacedDeployment({ name: 'orders', namespace: shop }))).toBe('h2c');
    });
  });
});

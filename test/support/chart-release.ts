/**
 * After `helm install` on a real control plane (kwok runs the operator's pods, which run nothing):
 * the operator itself, started from the built code exactly as the installed Deployment says, as
 * its ServiceAccount (a token the apiserver issued), with the test playing kube-proxy for the
 * webhook Service (its ClusterIP is a loopback address on the test cluster), so the apiserver calls
 * the `service:` reference and verifies the certificate the operator bootstrapped.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { eventually } from './cli.js';
import type { ToolRunner } from './client-session.js';
import type { Cluster } from './cluster.js';
import { serviceAccountKubeconfig } from './cluster-objects.js';
import { startOperatorFromChart, type RunningOperator } from './cluster-stand-in.js';
import type { K8sObject } from './helm.js';
import { proxyService, type ServiceProxy } from './service-proxy.js';

export interface ReleasedOperator {
  /** The operator Deployment as the apiserver stores it. */
  deployment: K8sObject & V1Deployment;
  /** The name of the release's MutatingWebhookConfiguration. */
  webhookConfigName: string;
  /** The caBundle the operator patched in. */
  caBundle: string;
  operator: RunningOperator;
  proxy: ServiceProxy;
  close(): Promise<void>;
}

/** An annotated Deployment, sent as a server-side dry run: the answer shows whether kube-apiserver called the webhook. */
const probe = (namespace: string) => JSON.stringify({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'webhook-probe', namespace, annotations: { 'badgateway.io/inject': 'true' } },
  spec: {
    selector: { matchLabels: { app: 'webhook-probe' } },
    template: { metadata: { labels: { app: 'webhook-probe' } }, spec: { containers: [{ name: 'app', image: 'probe', ports: [{ name: 'http', containerPort: 8080 }] }] } },
  },
});

/**
 * Starts the operator of the release installed in `namespace` as `identity` (its pod name), and
 * waits until kube-apiserver calls its webhook for a Deployment in `servedNamespace` (the apiserver
 * reads the caBundle the operator patched in through an informer, so the first call may miss it).
 */
export async function runReleasedOperator(cluster: Cluster, tools: ToolRunner, namespace: string, identity: string, servedNamespace = 'default'): Promise<ReleasedOperator> {
  const json = async (...args: string[]): Promise<{ items: Array<Record<string, any>> }> => JSON.parse(await tools.kubectlOk([...args, '-o', 'json'])); // eslint-disable-line @typescript-eslint/no-explicit-any -- kubectl -o json
  const deployment = (await json('-n', namespace, 'get', 'deployment', '-l', 'app.kubernetes.io/component=operator')).items[0] as ReleasedOperator['deployment'] | undefined;
  if (deployment === undefined) throw new Error(`no operator Deployment in ${namespace}: was the chart installed there?`);
  const serviceAccount = deployment.spec?.template.spec?.serviceAccountName ?? 'default';
  const operator = await startOperatorFromChart(deployment, await serviceAccountKubeconfig(cluster, namespace, serviceAccount), identity);
  const webhookConfig = (await json('get', 'mutatingwebhookconfiguration', '-l', `app.kubernetes.io/instance=${deployment.metadata.labels?.['app.kubernetes.io/instance'] ?? ''}`)).items[0];
  if (webhookConfig === undefined) throw new Error(`no MutatingWebhookConfiguration for the release in ${namespace}`);
  const webhookConfigName = String(webhookConfig.metadata.name);
  const { service } = webhookConfig.webhooks[0].clientConfig as { service: { namespace: string; name: string } };
  let proxy: ServiceProxy | undefined;
  const close = async () => { operator.stop(); await proxy?.close(); };
  let caBundle = '';
  try {
    proxy = await proxyService(cluster, service.namespace, service.name, operator.webhookPort);
    await eventually(() => /webhook listening/.test(operator.output()), 60_000, () => `webhook listening (operator output: ${operator.output().slice(-400)})`);
    await eventually(async () => {
      caBundle = (await tools.kubectlOk(['get', 'mutatingwebhookconfiguration', webhookConfigName, '-o', 'jsonpath={.webhooks[0].clientConfig.caBundle}'])).trim();
      return caBundle !== '';
    }, 60_000, 'the caBundle patched in by the operator');
    await eventually(async () => {
      const admitted = JSON.parse(await tools.kubectlOk(['create', '--dry-run=server', '-o', 'json', '-f', '-'], probe(servedNamespace))) as V1Deployment;
      return (admitted.spec?.template.spec?.initContainers ?? []).some((container) => container.name === 'badgateway');
    }, 60_000, `kube-apiserver calling the webhook for a Deployment in ${servedNamespace}`);
  } catch (error) {
    await close();
    throw error;
  }
  return { deployment, webhookConfigName, caBundle, operator, proxy, close };
}

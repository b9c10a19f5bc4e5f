/**
 * The operator's webhook in the real apiserver's admission path: started as the chart's
 * ServiceAccount with a serving certificate for localhost, and the chart's
 * MutatingWebhookConfiguration (rules, namespaceSelector, CEL matchConditions, failurePolicy)
 * pointed at it by `url`, as envtest does. The chart's watchNamespace value scopes it to one
 * namespace of the test, so parallel test files never meet it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../api/logger.js';
import { generateCa, generateServingCert } from '../../operator/certs/generate.js';
import { DEFAULT_INJECTION_SETTINGS } from '../../operator/inject/settings.js';
import { createKubeClients, loadKubeConfig } from '../../operator/kube/clients.js';
import { startWebhook, type RunningWebhook } from '../../operator/webhook/index.js';
import { clusterRequest, type Cluster } from './cluster.js';
import { renderChart, type K8sObject } from './helm.js';

const CONFIG_PATH = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';

interface WebhookConfig extends K8sObject { webhooks: Array<Record<string, unknown> & { clientConfig: Record<string, unknown> }> }

export interface ClusterWebhook {
  /** Stops the webhook's server; the configuration stays, so the apiserver's calls fail (and the chart's Ignore admits unchanged). */
  stop(): Promise<void>;
  /** Stops the webhook and deletes its configuration and certificate folder. */
  close(): Promise<void>;
}

export interface ClusterWebhookOptions {
  /** The release namespace: the operator's identity was installed there with `operator.watchNamespace=<watchNamespace>`. */
  operatorNamespace: string;
  watchNamespace: string;
  /** The operator's ServiceAccount kubeconfig. */
  kubeconfigPath: string;
}

export async function startClusterWebhook(cluster: Cluster, options: ClusterWebhookOptions): Promise<ClusterWebhook> {
  const { operatorNamespace, watchNamespace } = options;
  const rendered = renderChart(['--set', `operator.watchNamespace=${watchNamespace}`], operatorNamespace, operatorNamespace)
    .find((object) => object.kind === 'MutatingWebhookConfiguration') as WebhookConfig;
  const ca = await generateCa('badgateway-test-webhook-ca');
  const serving = await generateServingCert(ca, ['localhost']);
  const certDir = mkdtempSync(join(tmpdir(), 'webhook-certs-'));
  writeFileSync(join(certDir, 'tls.crt'), serving.certPem);
  writeFileSync(join(certDir, 'tls.key'), serving.keyPem, { mode: 0o600 });
  let webhook: RunningWebhook | undefined = await startWebhook({
    clients: createKubeClients(loadKubeConfig(options.kubeconfigPath)), namespace: operatorNamespace, watchNamespace, port: 0, host: '127.0.0.1',
    serviceName: 'unused', secretName: 'unused', webhookConfigName: rendered.metadata.name, certMode: 'external', certDir,
    injection: DEFAULT_INJECTION_SETTINGS, logger: silentLogger(),
  });
  const url = `https://localhost:${webhook.port}/mutate`;
  const config = {
    ...rendered,
    webhooks: rendered.webhooks.map((hook) => ({ ...hook, clientConfig: { url, caBundle: Buffer.from(ca.certPem).toString('base64') } })),
  };
  const created = await clusterRequest(cluster, 'POST', CONFIG_PATH, config);
  if (created.status !== 201) throw new Error(`creating the webhook configuration: ${created.status} ${JSON.stringify(created.body)}`);
  const stop = async (): Promise<void> => {
    await webhook?.close();
    webhook = undefined;
  };
  return {
    stop,
    close: async () => {
      await stop();
      await clusterRequest(cluster, 'DELETE', `${CONFIG_PATH}/${rendered.metadata.name}`);
      rmSync(certDir, { recursive: true, force: true });
    },
  };
}

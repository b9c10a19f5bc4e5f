/**
 * Self-signed mode: the MutatingWebhookConfiguration belongs to the chart, so a reinstall
 * (`helm uninstall` then `helm install`) or an edit can replace it with an empty or stale caBundle
 * while the operator keeps running — and the API server then cannot call the webhook, so nothing
 * is injected. A list + watch of that one object (field selector `metadata.name`) patches the
 * bundle again within moments of any change, instead of at the next hourly renewal check.
 */
import type { V1MutatingWebhookConfiguration } from '@kubernetes/client-node';
import type { Logger } from '../../api/logger.js';
import { ensureCaBundle } from '../certs/bootstrap.js';
import { keepRunning } from '../controller/informers.js';
import type { KubeClients } from '../kube/clients.js';

export interface CaBundleWatchOptions {
  clients: KubeClients;
  webhookConfigName: string;
  /** The CA the served certificate chains to right now. */
  caPem(): string;
  logger: Logger;
  restartDelayMs?: number;
}

export function watchCaBundle(options: CaBundleWatchOptions): { start(): Promise<void>; stop(): Promise<void> } {
  const { clients, logger, webhookConfigName } = options;
  const fieldSelector = `metadata.name=${webhookConfigName}`;
  const informer = clients.informer<V1MutatingWebhookConfiguration>(
    '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations',
    () => clients.admission.listMutatingWebhookConfiguration({ fieldSelector }),
    { fieldSelector },
  );
  const patch = async (): Promise<void> => {
    try {
      if (await ensureCaBundle(clients, webhookConfigName, options.caPem())) logger.info({ webhookConfig: webhookConfigName }, 'caBundle updated');
    } catch (error) {
      logger.warn({ error: (error as Error).message, webhookConfig: webhookConfigName }, 'cannot patch the webhook caBundle (yet)');
    }
  };
  // Our own patch comes back as an update that then matches: no loop.
  for (const event of ['add', 'update'] as const) informer.on(event, () => void patch());
  return keepRunning(informer, `MutatingWebhookConfiguration ${webhookConfigName}`, logger, options.restartDelayMs ?? 2_000);
}

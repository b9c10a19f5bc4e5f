/**
 * Starts the webhook as the operator runs it: TLS from the self-signed bootstrap Secret (renewed
 * and reloaded without restart, caBundle kept patched and re-patched whenever the configuration
 * changes) or from cert-manager's files, the cluster
 * version from discovery, and per review the applicable policy and the namespace's Services (for
 * the app's `appProtocol`), both from informer caches.
 */
import { readFile } from 'node:fs/promises';
import { watch } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../api/logger.js';
import { ensureCaBundle, ensureServingCertificate } from '../certs/bootstrap.js';
import { certificateNotAfter } from '../certs/generate.js';
import type { KubeClients } from '../kube/clients.js';
import type { InjectContext } from '../inject/inject.js';
import { CURRENT_KUBE_VERSION } from '../inject/kube-version.js';
import { effectivePolicyName } from '../inject/policy-match.js';
import type { InjectionSettings } from '../inject/settings.js';
import { startPolicyCache } from './policy-cache.js';
import { startServiceCache } from './service-cache.js';
import type { AdmissionRequest } from './review.js';
import { watchCaBundle } from './ca-bundle-watch.js';
import { createWebhookServer, type WebhookServerOptions } from './server.js';

export interface WebhookOptions {
  clients: KubeClients;
  namespace: string;
  /** The one namespace whose policies apply (the operator's --namespace); all when undefined. */
  watchNamespace?: string;
  port: number;
  host?: string;
  serviceName: string;
  secretName: string;
  webhookConfigName: string;
  certMode: 'self-signed' | 'external';
  certDir?: string;
  injection: InjectionSettings;
  kubeVersion?: string;
  logger: Logger;
  onReview?: WebhookServerOptions['onReview'];
  /** Told the serving certificate's notAfter each time one is loaded. */
  onCertificate?(notAfter: Date): void;
}

export interface RunningWebhook {
  port: number;
  ready(): boolean;
  close(): Promise<void>;
}

const RENEWAL_CHECK_MS = 3_600_000;

async function serverVersion(clients: KubeClients, logger: Logger): Promise<string> {
  try {
    return (await clients.version.getCode()).gitVersion;
  } catch (error) {
    logger.warn({ error: (error as Error).message }, `cannot read the server version; assuming ${CURRENT_KUBE_VERSION}`);
    return CURRENT_KUBE_VERSION;
  }
}

async function readExternalTls(certDir: string): Promise<{ key: string; cert: string }> {
  const [cert, key] = await Promise.all([readFile(join(certDir, 'tls.crt'), 'utf8'), readFile(join(certDir, 'tls.key'), 'utf8')]);
  return { cert, key };
}

export async function startWebhook(options: WebhookOptions): Promise<RunningWebhook> {
  const { clients, logger } = options;
  const kubeVersion = options.kubeVersion ?? await serverVersion(clients, logger);
  let caPem = '';
  const selfSigned = async () => {
    const cert = await ensureServingCertificate(clients, { namespace: options.namespace, secretName: options.secretName, serviceName: options.serviceName });
    caPem = cert.caPem;
    try {
      if (await ensureCaBundle(clients, options.webhookConfigName, cert.caPem)) logger.info({ webhookConfig: options.webhookConfigName }, 'caBundle updated');
    } catch (error) {
      logger.warn({ error: (error as Error).message, webhookConfig: options.webhookConfigName }, 'cannot patch the webhook caBundle (yet)');
    }
    return { key: cert.keyPem, cert: cert.certPem };
  };
  if (options.certMode === 'external' && options.certDir === undefined) throw new Error('--cert-dir is required with --cert-mode external');
  const readTls = options.certMode === 'external' ? () => readExternalTls(options.certDir as string) : selfSigned;
  const loadTls = async () => {
    const tls = await readTls();
    options.onCertificate?.(certificateNotAfter(tls.cert));
    return tls;
  };

  const fallbackContext = (policyName?: string): InjectContext => ({
    settings: options.injection,
    kubeVersion,
    ...(policyName === undefined ? {} : { policyName }),
  });
  const policyCache = startPolicyCache(clients, options.watchNamespace, logger);
  const serviceCache = startServiceCache(clients, options.watchNamespace, logger);
  const resolveContext = async (request: AdmissionRequest): Promise<InjectContext> => {
    const namespace = request.namespace ?? (request.object as { metadata?: { namespace?: string } } | undefined)?.metadata?.namespace;
    if (namespace === undefined) return fallbackContext();
    const deployment = { ...(request.object as object), metadata: { ...(request.object as { metadata?: object }).metadata, namespace } };
    const [policies, services] = await Promise.all([policyCache.list(namespace), serviceCache.list(namespace)]);
    return { ...fallbackContext(effectivePolicyName(policies, deployment)), services };
  };

  const server = createWebhookServer({ tls: await loadTls(), resolveContext, fallbackContext: () => fallbackContext(), logger, ...(options.onReview === undefined ? {} : { onReview: options.onReview }) });
  const address = await server.listen(options.host ?? '0.0.0.0', options.port);
  logger.info({ port: address.port, certMode: options.certMode, kubeVersion }, 'webhook listening');

  const reload = async () => {
    try {
      server.updateTls(await loadTls());
    } catch (error) {
      logger.error({ error: (error as Error).message }, 'webhook certificate reload failed; keeping the current one');
    }
  };
  const renewal = setInterval(() => void reload(), RENEWAL_CHECK_MS);
  renewal.unref();
  const watcher = options.certMode === 'external' ? watch(options.certDir as string, { persistent: false }, () => void reload()) : undefined;
  const caBundleWatch = options.certMode === 'self-signed'
    ? watchCaBundle({ clients, webhookConfigName: options.webhookConfigName, caPem: () => caPem, logger })
    : undefined;
  await caBundleWatch?.start();

  return {
    port: address.port,
    ready: () => true,
    close: async () => {
      clearInterval(renewal);
      watcher?.close();
      await caBundleWatch?.stop();
      await Promise.all([server.close(), policyCache.close(), serviceCache.close()]);
    },
  };
}

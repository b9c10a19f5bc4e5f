/** The three watched kinds, via clients.informer: restarted after errors (the client itself relists on 410). */
import type { Informer, KubernetesObject, ObjectCache, V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import type { Logger } from '../../api/logger.js';
import { API_GROUP, API_VERSION, POLICY_PLURAL } from '../../api/names.js';
import type { KubeClients } from '../kube/clients.js';
import type { PolicyObject } from './reconcile.js';

type CachedInformer<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export interface WatchedKinds {
  policies: CachedInformer<PolicyObject>;
  deployments: CachedInformer<V1Deployment>;
  configMaps: CachedInformer<V1ConfigMap>;
}

export function createInformers(clients: KubeClients, namespace: string | undefined): WatchedKinds {
  const scope = namespace === undefined ? '' : `/namespaces/${namespace}`;
  const custom = { group: API_GROUP, version: API_VERSION, plural: POLICY_PLURAL };
  return {
    policies: clients.informer<PolicyObject>(
      `/apis/${API_GROUP}/${API_VERSION}${scope}/${POLICY_PLURAL}`,
      async () => (namespace === undefined
        ? clients.custom.listClusterCustomObject(custom)
        : clients.custom.listNamespacedCustomObject({ ...custom, namespace })) as Promise<{ metadata: object; items: PolicyObject[] }>,
    ),
    deployments: clients.informer<V1Deployment>(
      `/apis/apps/v1${scope}/deployments`,
      () => (namespace === undefined ? clients.apps.listDeploymentForAllNamespaces() : clients.apps.listNamespacedDeployment({ namespace })),
    ),
    configMaps: clients.informer<V1ConfigMap>(
      `/api/v1${scope}/configmaps`,
      () => (namespace === undefined ? clients.core.listConfigMapForAllNamespaces() : clients.core.listNamespacedConfigMap({ namespace })),
    ),
  };
}

/** Starts an informer and keeps it running: after any error it is started again after `restartDelayMs`. */
export function keepRunning<T extends KubernetesObject>(
  informer: CachedInformer<T>,
  kind: string,
  logger: Logger,
  restartDelayMs: number,
): { start(): Promise<void>; stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const restart = (): void => {
    if (stopped || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (stopped) return;
      forceRelist(informer);
      informer.start().catch((error: unknown) => {
        logger.warn({ kind, error: (error as Error).message }, 'informer restart failed');
        restart();
      });
    }, restartDelayMs);
    timer.unref();
  };
  informer.on('error', (error: unknown) => {
    logger.warn({ kind, error: (error as Error | undefined)?.message }, 'watch failed; restarting');
    restart();
  });
  return {
    start: async () => {
      try {
        await informer.start();
      } catch (error) {
        logger.warn({ kind, error: (error as Error).message }, 'initial list failed; retrying');
        restart();
      }
    },
    stop: async () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await informer.stop();
    },
  };
}

/**
 * client-node 2 only relists when a 410 arrives as a watch event or an error carrying code 410; a
 * watch request answered "410 Gone" (or any other failure) otherwise restarts from the same stale
 * resourceVersion forever. After an error a full relist is always safe, so restart from scratch.
 */
function forceRelist(informer: object): void {
  const listWatch = informer as { resourceVersion?: unknown };
  if (typeof listWatch.resourceVersion === 'string') listWatch.resourceVersion = '';
}

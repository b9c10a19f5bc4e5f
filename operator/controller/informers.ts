/**
 * The watched kinds, via clients.informer, in one namespace or all: policies, Deployments, Services
 * (bypass detection) and only the ConfigMaps the operator renders (label-selected; referenced
 * error-page ConfigMaps are watched one by one in page-watch.ts), each cached without what the
 * operator never reads (kube/slim.ts). Restarted after errors.
 */
import type { Informer, KubernetesObject, ObjectCache, V1ConfigMap, V1Deployment, V1Service } from '@kubernetes/client-node';
import type { Logger } from '../../api/logger.js';
import { API_GROUP, API_VERSION, POLICY_PLURAL } from '../../api/names.js';
import type { KubeClients } from '../kube/clients.js';
import { slimDeployment, slimService, withoutBookkeeping } from '../kube/slim.js';
import { MANAGED_CONFIG_MAP_SELECTOR } from './config-map.js';
import type { PolicyObject } from './context.js';

export type CachedInformer<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export interface WatchedKinds {
  policies: CachedInformer<PolicyObject>;
  deployments: CachedInformer<V1Deployment>;
  services: CachedInformer<V1Service>;
  /** Only ConfigMaps labelled as rendered by the operator. */
  configMaps: CachedInformer<V1ConfigMap>;
}

export function createInformers(clients: KubeClients, namespace: string | undefined): WatchedKinds {
  const scope = namespace === undefined ? '' : `/namespaces/${namespace}`;
  const custom = { group: API_GROUP, version: API_VERSION, plural: POLICY_PLURAL };
  const labelSelector = MANAGED_CONFIG_MAP_SELECTOR;
  return {
    policies: clients.informer<PolicyObject>(
      `/apis/${API_GROUP}/${API_VERSION}${scope}/${POLICY_PLURAL}`,
      async () => (namespace === undefined
        ? clients.custom.listClusterCustomObject(custom)
        : clients.custom.listNamespacedCustomObject({ ...custom, namespace })) as Promise<{ metadata: object; items: PolicyObject[] }>,
      { transform: withoutBookkeeping },
    ),
    deployments: clients.informer<V1Deployment>(
      `/apis/apps/v1${scope}/deployments`,
      () => (namespace === undefined ? clients.apps.listDeploymentForAllNamespaces() : clients.apps.listNamespacedDeployment({ namespace })),
      { transform: slimDeployment },
    ),
    services: clients.informer<V1Service>(
      `/api/v1${scope}/services`,
      () => (namespace === undefined ? clients.core.listServiceForAllNamespaces() : clients.core.listNamespacedService({ namespace })),
      { transform: slimService },
    ),
    configMaps: clients.informer<V1ConfigMap>(
      `/api/v1${scope}/configmaps`,
      () => (namespace === undefined
        ? clients.core.listConfigMapForAllNamespaces({ labelSelector })
        : clients.core.listNamespacedConfigMap({ namespace, labelSelector })),
      { labelSelector, transform: withoutBookkeeping },
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
  let lastError: unknown;
  const restart = (): void => {
    if (stopped || timer !== undefined) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (stopped) return;
      if (refusedByServer(lastError)) forceRelist(informer);
      informer.start().catch((error: unknown) => {
        if (stopped) return;
        lastError = error;
        logger.warn({ kind, error: (error as Error).message }, 'informer restart failed');
        restart();
      });
    }, restartDelayMs);
    timer.unref();
  };
  informer.on('error', (error: unknown) => {
    // stop() aborts the watch, which client-node reports as an error: a clean shutdown is not a failure.
    if (stopped) return;
    lastError = error;
    logger.warn({ kind, error: (error as Error | undefined)?.message }, 'watch failed; restarting');
    restart();
  });
  return {
    start: async () => {
      try {
        await informer.start();
      } catch (error) {
        if (stopped) return;
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
 * Whether the API server refused the request itself (a 4xx the generated clients report as `code`,
 * the watch as `statusCode`): the resourceVersion may be what it refuses, and then resuming would
 * be refused forever. Not for an apiserver that could not be reached (a restart, a network blip),
 * was not ready (429, 5xx) or had not yet loaded its authorizer's caches after a restart (401, 403):
 * those say nothing about the cache, and the watch resumes from its last resourceVersion, which
 * bookmarks keep fresh (the server answers 410 if it is too old, which client-node turns into a relist).
 */
function refusedByServer(error: unknown): boolean {
  const { code, statusCode } = (error ?? {}) as { code?: unknown; statusCode?: unknown };
  const status = typeof code === 'number' ? code : statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 && ![401, 403, 429].includes(status);
}

/** Restart from scratch: a full relist is always safe, if not cheap. */
function forceRelist(informer: object): void {
  const listWatch = informer as { resourceVersion?: unknown };
  if (typeof listWatch.resourceVersion === 'string') listWatch.resourceVersion = '';
}

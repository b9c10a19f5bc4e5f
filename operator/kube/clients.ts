/**
 * The only file that calls @kubernetes/client-node's constructors, so a client upgrade touches one
 * place. Everything else in operator/ receives a `KubeClients`.
 */
import * as k8s from '@kubernetes/client-node';
import { setTimeout as delay } from 'node:timers/promises';

/** The informer's reconnect back-off (up to 30 s) must not keep a stopping process alive. */
const unrefDelay = (ms: number): Promise<void> => delay(ms, undefined, { ref: false });

export interface KubeClients {
  readonly config: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly custom: k8s.CustomObjectsApi;
  readonly coordination: k8s.CoordinationV1Api;
  readonly admission: k8s.AdmissionregistrationV1Api;
  readonly apiextensions: k8s.ApiextensionsV1Api;
  readonly events: k8s.EventsV1Api;
  readonly version: k8s.VersionApi;
  readonly objects: k8s.KubernetesObjectApi;
  /**
   * An informer over `path` (list + watch, with the client's own relist on 410). The selectors
   * apply to the watch; `list` must apply the same ones to its own request.
   */
  informer<T extends k8s.KubernetesObject>(path: string, list: k8s.ListPromise<T>, labelSelector?: string, fieldSelector?: string): k8s.Informer<T> & k8s.ObjectCache<T>;
}

/** A kubeconfig that cannot be used; the message is one line that says what to do. */
export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

export const NO_KUBECONFIG_MESSAGE = 'no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or run in a cluster';

const firstLine = (error: unknown): string =>
  (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

/**
 * Loads a kubeconfig: the given file, else KUBECONFIG, ~/.kube/config or the in-cluster service
 * account. client-node falls back to an unauthenticated http://localhost:8080 when it finds none,
 * which only fails later with an unrelated TLS message; that case is reported here instead.
 */
export function loadKubeConfig(kubeconfigPath?: string): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  const explicit = kubeconfigPath !== undefined && kubeconfigPath !== '';
  try {
    if (explicit) config.loadFromFile(kubeconfigPath);
    else config.loadFromDefault();
  } catch (error) {
    const source = explicit ? `--kubeconfig: cannot read ${kubeconfigPath}` : `cannot read the kubeconfig (KUBECONFIG=${process.env['KUBECONFIG'] ?? ''})`;
    throw new KubeConfigError(`${source}: ${firstLine(error)}`);
  }
  const cluster = config.getCurrentCluster();
  if (!explicit && config.getCurrentUser()?.name === 'user' && cluster?.name === 'cluster' && cluster.server === 'http://localhost:8080') {
    throw new KubeConfigError(NO_KUBECONFIG_MESSAGE);
  }
  if (cluster === null) {
    throw new KubeConfigError(`${explicit ? `--kubeconfig: ${kubeconfigPath}` : 'the kubeconfig'} has no current context with a cluster: set current-context`);
  }
  return config;
}

export function createKubeClients(config: k8s.KubeConfig): KubeClients {
  return {
    config,
    core: config.makeApiClient(k8s.CoreV1Api),
    apps: config.makeApiClient(k8s.AppsV1Api),
    custom: config.makeApiClient(k8s.CustomObjectsApi),
    coordination: config.makeApiClient(k8s.CoordinationV1Api),
    admission: config.makeApiClient(k8s.AdmissionregistrationV1Api),
    apiextensions: config.makeApiClient(k8s.ApiextensionsV1Api),
    events: config.makeApiClient(k8s.EventsV1Api),
    version: config.makeApiClient(k8s.VersionApi),
    objects: k8s.KubernetesObjectApi.makeApiClient(config),
    informer: (path, list, labelSelector, fieldSelector) =>
      new k8s.ListWatch(path, new k8s.Watch(config), list, false, labelSelector, fieldSelector, { delayFn: unrefDelay }),
  };
}

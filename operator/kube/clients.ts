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

/** Loads a kubeconfig: the given file, else in-cluster service account, else the default locations. */
export function loadKubeConfig(kubeconfigPath?: string): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  if (kubeconfigPath !== undefined && kubeconfigPath !== '') config.loadFromFile(kubeconfigPath);
  else config.loadFromDefault();
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

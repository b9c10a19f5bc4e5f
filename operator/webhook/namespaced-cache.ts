/**
 * What the webhook decides with, from informers of its own (every replica serves the webhook, only
 * the leader runs the controller). An API list per review put a round trip to the apiserver inside
 * every admission; on a busy control plane it outlasted the review's deadline, the Deployment was
 * injected on the sidecar's defaults, and its policy stayed TargetsNotConfigured. Until the first
 * list has arrived, a review still lists its namespace from the API.
 */
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../api/logger.js';
import { keepRunning } from '../controller/informers.js';
import type { KubeClients } from '../kube/clients.js';

export interface NamespacedCache<T> {
  list(namespace: string): Promise<readonly T[]>;
  close(): Promise<void>;
}

export interface CacheSource<T extends KubernetesObject> {
  /** For the logs. */
  kind: string;
  /** The watch's path: in the watched namespace, or in all. */
  path: string;
  /** Lists one namespace, or all when undefined. */
  list: (namespace: string | undefined) => Promise<KubernetesListObject<T>>;
  /** What the cache keeps of each object (kube/slim.ts). */
  transform: (object: T) => T;
}

const RESTART_DELAY_MS = 1_000;

export function startNamespacedCache<T extends KubernetesObject>(
  clients: KubeClients,
  source: CacheSource<T>,
  watchNamespace: string | undefined,
  logger: Logger,
): NamespacedCache<T> {
  let listed = false;
  const informer = clients.informer<T>(source.path, async () => {
    const list = await source.list(watchNamespace);
    listed = true;
    return list;
  }, { transform: source.transform });
  const runner = keepRunning(informer, `${source.kind} (webhook)`, logger, RESTART_DELAY_MS);
  void runner.start();
  return {
    list: async (namespace) => (listed ? informer.list(namespace) : (await source.list(namespace)).items.map(source.transform)),
    close: () => runner.stop(),
  };
}

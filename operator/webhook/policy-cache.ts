/**
 * The policies the webhook decides with, from an informer of its own (every replica serves the
 * webhook, only the leader runs the controller). An API list per review put a round trip to the
 * apiserver inside every admission; on a busy control plane it outlasted the review's deadline, the
 * Deployment was injected on the sidecar's defaults, and its policy stayed TargetsNotConfigured.
 * Until the first list has arrived, a review still lists from the API.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../api/logger.js';
import { API_GROUP, API_VERSION, POLICY_PLURAL } from '../../api/names.js';
import { keepRunning } from '../controller/informers.js';
import type { KubeClients } from '../kube/clients.js';
import { withoutBookkeeping } from '../kube/slim.js';
import type { PolicyLike } from '../inject/policy-match.js';

type CachedPolicy = PolicyLike & KubernetesObject;

export interface PolicyCache {
  policies(namespace: string): Promise<readonly PolicyLike[]>;
  close(): Promise<void>;
}

const RESTART_DELAY_MS = 1_000;

export function startPolicyCache(clients: KubeClients, watchNamespace: string | undefined, logger: Logger): PolicyCache {
  const custom = { group: API_GROUP, version: API_VERSION, plural: POLICY_PLURAL };
  const scope = watchNamespace === undefined ? '' : `/namespaces/${watchNamespace}`;
  let listed = false;
  const informer = clients.informer<CachedPolicy>(
    `/apis/${API_GROUP}/${API_VERSION}${scope}/${POLICY_PLURAL}`,
    async () => {
      const list = await (watchNamespace === undefined
        ? clients.custom.listClusterCustomObject(custom)
        : clients.custom.listNamespacedCustomObject({ ...custom, namespace: watchNamespace })) as { metadata: object; items: CachedPolicy[] };
      listed = true;
      return list;
    },
    { transform: withoutBookkeeping },
  );
  const runner = keepRunning(informer, 'BadGatewayPolicy (webhook)', logger, RESTART_DELAY_MS);
  void runner.start();
  return {
    policies: async (namespace) => {
      if (listed) return informer.list(namespace);
      const list = await clients.custom.listNamespacedCustomObject({ ...custom, namespace }) as { items?: PolicyLike[] };
      return list.items ?? [];
    },
    close: () => runner.stop(),
  };
}

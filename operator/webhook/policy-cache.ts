/** The BadGatewayPolicies the webhook resolves a Deployment's policy from (namespaced-cache.ts). */
import type { KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../api/logger.js';
import { API_GROUP, API_VERSION, POLICY_PLURAL } from '../../api/names.js';
import type { KubeClients } from '../kube/clients.js';
import { withoutBookkeeping } from '../kube/slim.js';
import type { PolicyLike } from '../inject/policy-match.js';
import { startNamespacedCache, type NamespacedCache } from './namespaced-cache.js';

type CachedPolicy = PolicyLike & KubernetesObject;

export function startPolicyCache(clients: KubeClients, watchNamespace: string | undefined, logger: Logger): NamespacedCache<PolicyLike> {
  const custom = { group: API_GROUP, version: API_VERSION, plural: POLICY_PLURAL };
  const scope = watchNamespace === undefined ? '' : `/namespaces/${watchNamespace}`;
  return startNamespacedCache<CachedPolicy>(clients, {
    kind: 'BadGatewayPolicy',
    path: `/apis/${API_GROUP}/${API_VERSION}${scope}/${POLICY_PLURAL}`,
    list: async (namespace) => (namespace === undefined
      ? clients.custom.listClusterCustomObject(custom)
      : clients.custom.listNamespacedCustomObject({ ...custom, namespace })) as Promise<KubernetesListObject<CachedPolicy>>,
    transform: withoutBookkeeping,
  }, watchNamespace, logger);
}

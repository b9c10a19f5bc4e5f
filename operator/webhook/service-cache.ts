/**
 * The Services the webhook reads the app's `appProtocol` from (namespaced-cache.ts), each kept as
 * its selector and ports only (kube/slim.ts): a cluster's Services are many, and every replica
 * caches them.
 */
import type { V1Service } from '@kubernetes/client-node';
import type { Logger } from '../../api/logger.js';
import type { KubeClients } from '../kube/clients.js';
import { slimService } from '../kube/slim.js';
import { startNamespacedCache, type NamespacedCache } from './namespaced-cache.js';

export function startServiceCache(clients: KubeClients, watchNamespace: string | undefined, logger: Logger): NamespacedCache<V1Service> {
  const scope = watchNamespace === undefined ? '' : `/namespaces/${watchNamespace}`;
  return startNamespacedCache<V1Service>(clients, {
    kind: 'Service',
    path: `/api/v1${scope}/services`,
    list: (namespace) => (namespace === undefined ? clients.core.listServiceForAllNamespaces() : clients.core.listNamespacedService({ namespace })),
    transform: slimService,
  }, watchNamespace, logger);
}

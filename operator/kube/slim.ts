/**
 * What the informers keep of each object (controller-runtime's cache transforms): managedFields and
 * kubectl's last-applied copy are bookkeeping the operator never reads, and a Deployment's status
 * (replica counts, conditions) plays no part in any decision. At fleet scale those are most of
 * each cached object's bytes.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export function withoutBookkeeping<T extends KubernetesObject>(object: T): T {
  const metadata = object.metadata;
  if (metadata === undefined) return object;
  delete metadata.managedFields;
  if (metadata.annotations?.[LAST_APPLIED] !== undefined) delete metadata.annotations[LAST_APPLIED];
  return object;
}

/** A Deployment as the controller reads it: metadata and spec. */
export function slimDeployment<T extends KubernetesObject & { status?: unknown }>(deployment: T): T {
  delete deployment.status;
  return withoutBookkeeping(deployment);
}

/**
 * What the informers keep of each object (controller-runtime's cache transforms): managedFields and
 * kubectl's last-applied copy are bookkeeping the operator never reads, and a Deployment's status
 * (replica counts, conditions) plays no part in any decision. At fleet scale those are most of
 * each cached object's bytes.
 */
import type { KubernetesObject, V1Service } from '@kubernetes/client-node';

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

/** The object without its undefined members, so a slim copy costs no empty slots. */
const defined = <T extends object>(object: T): T =>
  Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;

/**
 * A Service as the operator reads it: which pods it selects and the ports it routes (bypass
 * detection, the app's `appProtocol`), plus what the cache and the oldest-wins rule need. Labels,
 * annotations, cluster IPs and status are left behind: at fleet scale Services outnumber policies.
 */
export function slimService(service: V1Service): V1Service {
  const { name, namespace, uid, resourceVersion, creationTimestamp } = service.metadata ?? {};
  const spec = service.spec ?? {};
  return defined({
    apiVersion: service.apiVersion,
    kind: service.kind,
    metadata: defined({ name, namespace, uid, resourceVersion, creationTimestamp }),
    spec: defined({
      selector: spec.selector,
      ports: spec.ports?.map(({ name: portName, protocol, port, targetPort, appProtocol }) => defined({ name: portName, protocol, port, targetPort, appProtocol })),
    }),
  });
}

/**
 * The operator's identity on the real cluster, exactly as the chart grants it: the rendered
 * ServiceAccount, ClusterRole, Role and bindings of a release named after the test's namespace,
 * and a kubeconfig with a token the apiserver issued for that ServiceAccount. Tests that run the
 * controller or the webhook with it fail on any verb docs/rbac.md forgot.
 */
import { clusterRequest, type Cluster } from './cluster.js';
import { clusterApi, serviceAccountKubeconfig } from './cluster-objects.js';
import { applyManifests } from './cluster-stand-in.js';
import { renderChart, type K8sObject } from './helm.js';

export const RBAC_KINDS: ReadonlySet<string> = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

export interface OperatorIdentity {
  namespace: string;
  serviceAccount: string;
  /** `system:serviceaccount:NS:NAME`, for `kubectl --as`. */
  user: string;
  kubeconfigPath: string;
  /** The rendered RBAC objects, as created. */
  rbac: K8sObject[];
  /** Deletes the cluster-scoped objects (the namespace's deletion takes the rest). */
  remove(): Promise<void>;
}

/** Installs the chart's RBAC for a release named `namespace` in `namespace` (which must exist). */
export async function installOperatorIdentity(cluster: Cluster, namespace: string, helmArgs: string[] = []): Promise<OperatorIdentity> {
  const rbac = renderChart(helmArgs, namespace, namespace).filter((object) => RBAC_KINDS.has(object.kind));
  const refused = await applyManifests(clusterApi(cluster), rbac);
  if (refused.length > 0) throw new Error(`the real apiserver refused the chart's RBAC: ${refused.join('; ')}`);
  const account = rbac.find((object) => object.kind === 'ServiceAccount');
  if (account === undefined) throw new Error('the chart renders no ServiceAccount');
  const serviceAccount = account.metadata.name;
  return {
    namespace,
    serviceAccount,
    user: `system:serviceaccount:${namespace}:${serviceAccount}`,
    kubeconfigPath: await serviceAccountKubeconfig(cluster, namespace, serviceAccount),
    rbac,
    remove: async () => {
      for (const object of rbac) {
        if (object.kind === 'ClusterRole' || object.kind === 'ClusterRoleBinding') {
          await clusterRequest(cluster, 'DELETE', `/apis/rbac.authorization.k8s.io/v1/${object.kind.toLowerCase()}s/${object.metadata.name}`);
        }
      }
    },
  };
}

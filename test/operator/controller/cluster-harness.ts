/**
 * The controller tests' set-up on the real control plane: a namespace of the test's own, the
 * BadGatewayPolicy CRD as the real apiserver accepted it, and a controller scoped to that namespace
 * running as the chart's ServiceAccount (a token from the apiserver, so RBAC is the chart's). The
 * test itself acts as a user with the admin `clients`. Real controllers run beside it: Deployments
 * get ReplicaSets and kwok pods, and owned ConfigMaps are garbage-collected by the real collector.
 */
import type { ControllerOptions, PolicyController } from '../../../operator/controller/index.js';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../../operator/kube/clients.js';
import { sharedCluster, type Cluster } from '../../support/cluster.js';
import { createNamespace, deleteNamespace } from '../../support/cluster-objects.js';
import { installOperatorIdentity, type OperatorIdentity } from '../../support/cluster-operator.js';
import { ensurePolicyCrd } from '../../support/policy-crd.js';
import { startRecordingController } from './harness.js';

export interface ClusterHarness {
  cluster: Cluster;
  namespace: string;
  /** Admin clients: what the test does as a user. */
  clients: KubeClients;
  /** The operator's own clients (its ServiceAccount's token). */
  operatorClients: KubeClients;
  operator: OperatorIdentity;
  reconciles: string[];
  failures: string[];
  start(options?: Partial<ControllerOptions>): Promise<PolicyController>;
  close(): Promise<void>;
}

export async function startClusterHarness(prefix = 'controller'): Promise<ClusterHarness> {
  const cluster = await sharedCluster();
  await ensurePolicyCrd(cluster);
  const namespace = await createNamespace(cluster, prefix);
  const operator = await installOperatorIdentity(cluster, namespace);
  const clients = createKubeClients(loadKubeConfig(cluster.kubeconfigPath));
  const operatorClients = createKubeClients(loadKubeConfig(operator.kubeconfigPath));
  const reconciles: string[] = [];
  const failures: string[] = [];
  const controllers: PolicyController[] = [];
  return {
    cluster,
    namespace,
    clients,
    operatorClients,
    operator,
    reconciles,
    failures,
    start: async (options = {}) => {
      const controller = await startRecordingController(operatorClients, reconciles, failures, { namespace, ...options });
      controllers.push(controller);
      return controller;
    },
    close: async () => {
      await Promise.all(controllers.splice(0).map((controller) => controller.close()));
      await operator.remove();
      await deleteNamespace(cluster, namespace);
    },
  };
}

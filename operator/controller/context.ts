/**
 * What one reconcile reads and writes through, and the policy object's shape: the types the
 * controller's helpers share, kept apart from reconcile.ts so that no helper imports it back.
 */
import type { KubernetesObject, V1ConfigMap, V1Deployment, V1Service } from '@kubernetes/client-node';
import type { Logger } from '../../api/logger.js';
import type { PolicyStatus } from '../../api/status.js';
import type { PolicyLike } from '../inject/policy-match.js';
import type { KubeClients } from '../kube/clients.js';
import type { EventRecorder } from './events.js';

export interface PolicyObject extends KubernetesObject {
  spec?: PolicyLike['spec'];
  status?: PolicyStatus;
}

export interface ReconcileCaches {
  /** The policies of one namespace. */
  policies(namespace: string): readonly PolicyObject[];
  /** The Deployments of one namespace. */
  deployments(namespace: string): readonly V1Deployment[];
  services(namespace: string): readonly V1Service[];
  /** A ConfigMap the operator rendered (label-selected cache). */
  ownedConfigMap(namespace: string, name: string): V1ConfigMap | undefined;
  /** The data of a ConfigMap a policy references for its error pages. */
  pageData(namespace: string, name: string): Readonly<Record<string, string>> | undefined;
}

export interface ReconcileContext {
  clients: KubeClients;
  caches: ReconcileCaches;
  logger: Logger;
  now: () => Date;
  events: EventRecorder;
  /** Makes sure the referenced page ConfigMaps are watched and listed (see page-watch.ts). */
  trackPages(policyKey: string, namespace: string, names: readonly string[]): Promise<void>;
}

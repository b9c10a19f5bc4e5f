/** The policy's rendered ConfigMap: written only when its content (or our ownership marks) changed. */
import type { V1ConfigMap } from '@kubernetes/client-node';
import { API_GROUP_VERSION, CONFIG_KEY, POLICY_KIND, configMapNameFor } from '../../api/names.js';
import type { KubeClients } from '../kube/clients.js';
import { isNotFound } from '../kube/errors.js';
import type { PolicyObject } from './reconcile.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'badgateway';
export const POLICY_LABEL = 'badgateway.io/policy';
/** The label selector of the operator's ConfigMap informer: only the ConfigMaps it renders. */
export const MANAGED_CONFIG_MAP_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

export type ConfigMapWrite = 'created' | 'updated' | 'unchanged';

/** Up to date: same content, still carrying the labels the informer selects on, owned by this policy. */
function upToDate(configMap: V1ConfigMap | undefined, policy: PolicyObject, json: string): boolean {
  if (configMap?.data?.[CONFIG_KEY] !== json) return false;
  if (configMap.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) return false;
  return configMap.metadata.ownerReferences?.some((owner) => owner.controller === true && owner.uid === policy.metadata?.uid) ?? false;
}

export async function writeConfigMap(
  clients: KubeClients,
  cached: V1ConfigMap | undefined,
  policy: PolicyObject,
  json: string,
): Promise<ConfigMapWrite> {
  if (upToDate(cached, policy, json)) return 'unchanged';
  const namespace = policy.metadata?.namespace ?? '';
  const policyName = policy.metadata?.name ?? '';
  const name = configMapNameFor(policyName);
  const body: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [POLICY_LABEL]: policyName },
      ownerReferences: [{
        apiVersion: API_GROUP_VERSION,
        kind: POLICY_KIND,
        name: policyName,
        uid: policy.metadata?.uid ?? '',
        controller: true,
        blockOwnerDeletion: true,
      }],
    },
    data: { [CONFIG_KEY]: json },
  };
  let current: V1ConfigMap;
  try {
    current = await clients.core.readNamespacedConfigMap({ name, namespace });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await clients.core.createNamespacedConfigMap({ namespace, body });
    return 'created';
  }
  if (upToDate(current, policy, json)) return 'unchanged';
  await clients.core.replaceNamespacedConfigMap({
    name, namespace,
    body: { ...body, metadata: { ...body.metadata, labels: { ...current.metadata?.labels, ...body.metadata?.labels }, resourceVersion: current.metadata?.resourceVersion } },
  });
  return 'updated';
}

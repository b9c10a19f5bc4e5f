/** The policy's rendered ConfigMap: written only when its content (or our ownership marks) changed. */
import type { V1ConfigMap } from '@kubernetes/client-node';
import { API_GROUP, API_GROUP_VERSION, API_VERSION, CONFIG_KEY, POLICY_KIND, POLICY_PLURAL, configMapNameFor } from '../../api/names.js';
import type { KubeClients } from '../kube/clients.js';
import { isConflict, isNotFound } from '../kube/errors.js';
import type { PolicyObject } from './context.js';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'badgateway';
export const POLICY_LABEL = 'badgateway.io/policy';
/** The label selector of the operator's ConfigMap informer: only the ConfigMaps it renders. */
export const MANAGED_CONFIG_MAP_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`;

/** `ownerGone`: the policy was deleted (or replaced by a namesake) meanwhile; nothing of it is left behind. */
export type ConfigMapWrite = 'created' | 'updated' | 'unchanged' | 'ownerGone';

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
    return createOwned(clients, policy, body);
  }
  if (upToDate(current, policy, json)) return 'unchanged';
  await clients.core.replaceNamespacedConfigMap({
    name, namespace,
    body: { ...body, metadata: { ...body.metadata, labels: { ...current.metadata?.labels, ...body.metadata?.labels }, resourceVersion: current.metadata?.resourceVersion } },
  });
  return 'updated';
}

/** The policy as the API server holds it now (not the cache): does it still exist, with this uid, not terminating? */
async function ownerAlive(clients: KubeClients, policy: PolicyObject): Promise<boolean> {
  try {
    const live = await clients.custom.getNamespacedCustomObject({
      group: API_GROUP, version: API_VERSION, plural: POLICY_PLURAL,
      namespace: policy.metadata?.namespace ?? '', name: policy.metadata?.name ?? '',
    }) as PolicyObject;
    return live.metadata?.uid === policy.metadata?.uid && live.metadata?.deletionTimestamp === undefined;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/**
 * Creating is the one write that can resurrect what belongs to a deleted policy: the cache may
 * still hold a policy whose ConfigMap the garbage collector already removed. So the owner is checked
 * live before the create, and again after it (the deletion may land in between); a ConfigMap created
 * for a gone owner is deleted again, with a uid precondition so a namesake's ConfigMap is never hit.
 */
async function createOwned(clients: KubeClients, policy: PolicyObject, body: V1ConfigMap): Promise<ConfigMapWrite> {
  if (!(await ownerAlive(clients, policy))) return 'ownerGone';
  const namespace = body.metadata?.namespace ?? '';
  const name = body.metadata?.name ?? '';
  const created = await clients.core.createNamespacedConfigMap({ namespace, body });
  if (await ownerAlive(clients, policy)) return 'created';
  try {
    await clients.core.deleteNamespacedConfigMap({ name, namespace, body: { preconditions: { uid: created.metadata?.uid ?? '' } } });
  } catch (error) {
    if (!isNotFound(error) && !isConflict(error)) throw error;
  }
  return 'ownerGone';
}

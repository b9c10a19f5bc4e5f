/**
 * One reconcile of one BadGatewayPolicy: render its ConfigMap, mark its targets, write its status.
 * Reads come from the informer caches; writes go to the API server and are skipped when unchanged.
 */
import { PatchStrategy, setHeaderOptions, type KubernetesObject, type V1ConfigMap, type V1Deployment, type V1Service } from '@kubernetes/client-node';
import type { Logger } from '../../api/logger.js';
import { ANNOTATIONS, API_GROUP, API_GROUP_VERSION, API_VERSION, CONFIG_KEY, POLICY_KIND, POLICY_PLURAL, configMapNameFor } from '../../api/names.js';
import { CONDITION_TYPES, type Condition, type PolicyStatus } from '../../api/status.js';
import type { KubeClients } from '../kube/clients.js';
import { isNotFound } from '../kube/errors.js';
import { mergeConditions, stableStringify, type ConditionInput } from './conditions.js';
import { contentHash, renderPolicy } from './render.js';
import type { PolicyLike } from '../inject/policy-match.js';
import { bypassingServices, isInjected, resolveTargets } from './targets.js';

export interface PolicyObject extends KubernetesObject {
  spec?: PolicyLike['spec'];
  status?: PolicyStatus;
}

export interface ReconcileCaches {
  policies(): readonly PolicyObject[];
  deployments(): readonly V1Deployment[];
  configMap(namespace: string, name: string): V1ConfigMap | undefined;
}

export interface ReconcileContext {
  clients: KubeClients;
  caches: ReconcileCaches;
  logger: Logger;
  now: () => Date;
  recordEvent(policy: PolicyObject, type: 'Normal' | 'Warning', reason: string, note: string): Promise<void>;
}

export async function reconcilePolicy(context: ReconcileContext, namespace: string, name: string): Promise<void> {
  const policy = context.caches.policies().find((item) => item.metadata?.namespace === namespace && item.metadata?.name === name);
  if (policy === undefined) return; // deleted: the API server garbage-collects the owned ConfigMap.
  const generation = policy.metadata?.generation;
  const rendered = renderPolicy(policy.spec, namespace, (ns, cmName) => context.caches.configMap(ns, cmName)?.data);
  const conditions: ConditionInput[] = [];
  if (rendered.ok) {
    await writeConfigMap(context, policy, rendered.json);
    conditions.push({ type: CONDITION_TYPES.accepted, status: 'True', reason: 'Accepted', message: 'The policy is valid and rendered' });
  } else {
    conditions.push({ type: CONDITION_TYPES.accepted, status: 'False', reason: rendered.reason, message: rendered.message });
  }

  const targets = resolveTargets(policy, context.caches.policies(), context.caches.deployments());
  if (rendered.ok) for (const deployment of targets.won) await markTarget(context, deployment, name);
  const conflicted = targets.lost.length > 0;
  conditions.push(conflicted
    ? { type: CONDITION_TYPES.conflicted, status: 'True', reason: 'Conflicted', message: targets.lost.map((lost) => `Deployment ${lost.deployment} is governed by the older policy ${lost.winner}`).join('; ') }
    : { type: CONDITION_TYPES.conflicted, status: 'False', reason: 'NoConflict', message: 'No other policy claims these targets' });

  const services = targets.won.length === 0 ? [] : await listServices(context, namespace);
  const bypassing = targets.won.flatMap((deployment) => bypassingServices(deployment, services));
  conditions.push(bypassing.length > 0
    ? { type: CONDITION_TYPES.degraded, status: 'True', reason: 'ServiceBypassesSidecar', message: bypassing.map((item) => item.message).join('; ') }
    : { type: CONDITION_TYPES.degraded, status: 'False', reason: 'AllTrafficThroughSidecar', message: 'No Service bypasses the sidecar' });

  const ready = rendered.ok && !conflicted;
  conditions.push(ready
    ? { type: CONDITION_TYPES.ready, status: 'True', reason: 'Rendered', message: `ConfigMap ${configMapNameFor(name)} is up to date` }
    : { type: CONDITION_TYPES.ready, status: 'False', reason: rendered.ok ? 'Conflicted' : rendered.reason, message: rendered.ok ? 'Some targets are governed by another policy' : rendered.message });

  const status: PolicyStatus = {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    conditions: mergeConditions(policy.status?.conditions, conditions, generation, context.now),
    targets: targets.won.map((deployment) => ({ kind: 'Deployment', name: deployment.metadata?.name ?? '', injected: isInjected(deployment) })),
    bypassingServices: bypassing,
    configMap: configMapNameFor(name),
  };
  await writeStatus(context, policy, status);
}

async function writeConfigMap(context: ReconcileContext, policy: PolicyObject, json: string): Promise<void> {
  const namespace = policy.metadata?.namespace ?? '';
  const name = configMapNameFor(policy.metadata?.name ?? '');
  const cached = context.caches.configMap(namespace, name);
  if (cached?.data?.[CONFIG_KEY] === json) return;
  const body: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'badgateway', 'badgateway.io/policy': policy.metadata?.name ?? '' },
      ownerReferences: [{
        apiVersion: API_GROUP_VERSION,
        kind: POLICY_KIND,
        name: policy.metadata?.name ?? '',
        uid: policy.metadata?.uid ?? '',
        controller: true,
        blockOwnerDeletion: true,
      }],
    },
    data: { [CONFIG_KEY]: json },
  };
  try {
    const current = await context.clients.core.readNamespacedConfigMap({ name, namespace });
    if (current.data?.[CONFIG_KEY] === json) return;
    await context.clients.core.replaceNamespacedConfigMap({ name, namespace, body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata?.resourceVersion } } });
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await context.clients.core.createNamespacedConfigMap({ namespace, body });
  }
  context.logger.info({ namespace, configMap: name }, 'rendered policy ConfigMap');
  await context.recordEvent(policy, 'Normal', 'Rendered', `Rendered ConfigMap ${name}`);
}

/** Stamps the policy hash on a target's pod template when its effective policy changed, so the webhook re-renders it. */
async function markTarget(context: ReconcileContext, deployment: V1Deployment, policyName: string): Promise<void> {
  const annotations = deployment.spec?.template?.metadata?.annotations ?? {};
  // Content changes reach sidecars by ConfigMap hot reload; only a change of policy needs a re-render.
  const stamp = contentHash(`${deployment.metadata?.namespace ?? ''}/${policyName}`);
  if (annotations[ANNOTATIONS.policyHash] === stamp) return;
  const name = deployment.metadata?.name ?? '';
  const namespace = deployment.metadata?.namespace ?? '';
  // A merge patch of one annotation: no read-modify-write race with the Deployment's other writers.
  const patch = { spec: { template: { metadata: { annotations: { [ANNOTATIONS.policyHash]: stamp } } } } };
  await context.clients.apps.patchNamespacedDeployment({ name, namespace, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  context.logger.info({ namespace, deployment: name, policy: policyName }, 'marked target for re-injection');
}

async function listServices(context: ReconcileContext, namespace: string): Promise<V1Service[]> {
  const list = await context.clients.core.listNamespacedService({ namespace });
  return list.items;
}

function comparable(status: PolicyStatus | undefined): string {
  return stableStringify(status ?? {});
}

async function writeStatus(context: ReconcileContext, policy: PolicyObject, status: PolicyStatus): Promise<void> {
  if (comparable(policy.status) === comparable(status)) return;
  const namespace = policy.metadata?.namespace ?? '';
  const name = policy.metadata?.name ?? '';
  await context.clients.custom.replaceNamespacedCustomObjectStatus({
    group: API_GROUP, version: API_VERSION, namespace, plural: POLICY_PLURAL, name,
    body: { ...policy, status },
  });
  const before = policy.status?.conditions?.find((condition: Condition) => condition.type === CONDITION_TYPES.accepted);
  const after = status.conditions?.find((condition) => condition.type === CONDITION_TYPES.accepted);
  if (after !== undefined && after.status === 'False' && before?.status !== 'False') {
    await context.recordEvent(policy, 'Warning', after.reason, after.message);
  }
}

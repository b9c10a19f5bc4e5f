/**
 * One reconcile of one BadGatewayPolicy: render its ConfigMap, mark its targets, write its status,
 * record Events for what changed. Reads come from the informer caches, except a target it stamps,
 * which it reads from the stamp's answer; writes go to the API server and are skipped when
 * unchanged, so a resync of a settled policy makes no request at all.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { ANNOTATIONS, API_GROUP, API_GROUP_VERSION, API_VERSION, POLICY_KIND, POLICY_PLURAL, configMapNameFor } from '../../api/names.js';
import { CONDITION_TYPES, type PolicyStatus } from '../../api/status.js';
import { isConflict } from '../kube/errors.js';
import { mergeConditions, stableStringify, type ConditionInput } from './conditions.js';
import type { PolicyObject, ReconcileContext } from './context.js';
import { writeConfigMap, type ConfigMapWrite } from './config-map.js';
import type { EventRegarding } from './events.js';
import { releaseUnclaimedTargets, markTarget } from './mark-targets.js';
import { referencedConfigMapNames, renderPolicy } from './render.js';
import { bypassingServices } from './bypass.js';
import { readyCondition } from './ready.js';
import { isInjected, targetState } from './target-state.js';
import { resolveTargets } from './targets.js';
import { targetSummary } from './target-summary.js';
import { statusTransitionEvents } from './transitions.js';

export type { PolicyObject, ReconcileContext } from './context.js';

export function regardingPolicy(policy: PolicyObject): EventRegarding {
  return {
    apiVersion: API_GROUP_VERSION,
    kind: POLICY_KIND,
    name: policy.metadata?.name ?? '',
    namespace: policy.metadata?.namespace ?? '',
    ...(policy.metadata?.uid === undefined ? {} : { uid: policy.metadata.uid }),
  };
}

export async function reconcilePolicy(context: ReconcileContext, namespace: string, name: string): Promise<void> {
  const key = `${namespace}/${name}`;
  const policy = context.caches.policies(namespace).find((item) => item.metadata?.name === name);
  if (policy === undefined || policy.metadata?.deletionTimestamp !== undefined) {
    // Deleted or being deleted: nothing of it is written again. The API server garbage-collects the
    // owned ConfigMap; Deployments it governed alone are un-marked.
    await context.trackPages(key, namespace, []);
    await releaseUnclaimedTargets(context, namespace);
    return;
  }
  const generation = policy.metadata?.generation;
  await context.trackPages(key, namespace, referencedConfigMapNames(policy.spec));
  const rendered = renderPolicy(policy.spec, namespace, (ns, cmName) => context.caches.pageData(ns, cmName));
  const conditions: ConditionInput[] = [];
  if (rendered.ok) {
    // Deleted since the cache saw it: nothing more to write about it (the deletion re-queues it).
    if (await renderConfigMap(context, policy, rendered.json) === 'ownerGone') return;
    conditions.push({ type: CONDITION_TYPES.accepted, status: 'True', reason: 'Accepted', message: 'The policy is valid and rendered' });
  } else {
    conditions.push({ type: CONDITION_TYPES.accepted, status: 'False', reason: rendered.reason, message: rendered.message });
  }

  const cached = resolveTargets(policy, context.caches.policies(namespace), context.caches.deployments(namespace));
  // A target just stamped is judged as the API server admitted it (re-injected by the webhook), so
  // this pass can already write Ready; the watch's copy of it comes later and re-queues a no-op.
  const won: V1Deployment[] = [];
  if (rendered.ok) for (const deployment of cached.won) won.push(await markTarget(context, deployment, name));
  const targets = rendered.ok ? { ...cached, won } : cached;
  await releaseUnclaimedTargets(context, namespace);
  const conflicted = targets.lost.length > 0;
  conditions.push(conflicted
    ? { type: CONDITION_TYPES.conflicted, status: 'True', reason: 'Conflicted', message: conflictMessage(targets.lost, name) }
    : { type: CONDITION_TYPES.conflicted, status: 'False', reason: 'NoConflict', message: 'No other policy claims these targets' });

  const services = context.caches.services(namespace);
  const bypassing = targets.won.flatMap((deployment) => bypassingServices(deployment, services));
  conditions.push(bypassing.length > 0
    ? { type: CONDITION_TYPES.degraded, status: 'True', reason: 'ServiceBypassesSidecar', message: bypassing.map((item) => item.message).join('; ') }
    : { type: CONDITION_TYPES.degraded, status: 'False', reason: 'AllTrafficThroughSidecar', message: 'No Service bypasses the sidecar' });

  conditions.push(readyCondition(policy, rendered, targets));

  const status: PolicyStatus = {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    conditions: mergeConditions(policy.status?.conditions, conditions, generation, context.now),
    targets: targets.won.map((deployment) => ({
      kind: 'Deployment', name: deployment.metadata?.name ?? '', injected: isInjected(deployment), configured: targetState(deployment, name) === 'configured',
    })),
    ...(targets.won.length === 0 ? {} : { targetSummary: targetSummary(targets.won.map((deployment) => deployment.metadata?.name ?? '')) }),
    configured: `${targets.won.filter((deployment) => targetState(deployment, name) === 'configured').length}/${targets.won.length}`,
    bypassingServices: bypassing,
    configMap: configMapNameFor(name),
  };
  if (await writeStatus(context, policy, status)) {
    for (const event of statusTransitionEvents(policy.status, status)) {
      context.events.record(regardingPolicy(policy), event.type, event.reason, event.note);
    }
  }
}

function conflictMessage(lost: ReturnType<typeof resolveTargets>['lost'], name: string): string {
  const which = lost.map((item) => `Deployment ${item.deployment} is governed by the older policy ${item.winner}`).join('; ');
  return `${which}; retarget one of the policies, or annotate the Deployment ${ANNOTATIONS.policy}=${name} to choose this one`;
}

async function renderConfigMap(context: ReconcileContext, policy: PolicyObject, json: string): Promise<ConfigMapWrite> {
  const namespace = policy.metadata?.namespace ?? '';
  const name = configMapNameFor(policy.metadata?.name ?? '');
  const outcome = await writeConfigMap(context.clients, context.caches.ownedConfigMap(namespace, name), policy, json);
  if (outcome === 'unchanged' || outcome === 'ownerGone') return outcome;
  context.logger.info({ namespace, configMap: name, outcome }, 'rendered policy ConfigMap');
  context.events.record(
    regardingPolicy(policy), 'Normal',
    outcome === 'created' ? 'ConfigMapRendered' : 'ConfigMapUpdated',
    `${outcome === 'created' ? 'Rendered' : 'Updated'} ConfigMap ${name}`,
  );
  return outcome;
}

/** Writes status through the subresource when it changed; true when it wrote. */
async function writeStatus(context: ReconcileContext, policy: PolicyObject, status: PolicyStatus): Promise<boolean> {
  if (stableStringify(policy.status ?? {}) === stableStringify(status)) return false;
  try {
    await context.clients.custom.replaceNamespacedCustomObjectStatus({
      group: API_GROUP, version: API_VERSION, plural: POLICY_PLURAL,
      namespace: policy.metadata?.namespace ?? '', name: policy.metadata?.name ?? '',
      body: { ...policy, status },
    });
    return true;
  } catch (error) {
    // The cached resourceVersion makes the write optimistic. A 409 means the cache is behind (often
    // our own previous write); the watch event that catches it up re-queues this policy.
    if (!isConflict(error)) throw error;
    context.logger.debug({ policy: `${policy.metadata?.namespace ?? ''}/${policy.metadata?.name ?? ''}` }, 'status write raced a newer version; waiting for the watch');
    return false;
  }
}

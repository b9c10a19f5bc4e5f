/**
 * The Ready condition: True only when the policy is in effect — rendered, not conflicted, at least
 * one target, and every target's pod template runs the sidecar with this policy's ConfigMap
 * mounted. Every False names what is wrong and what to do about it.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { ANNOTATIONS, configMapNameFor } from '../../api/names.js';
import { CONDITION_TYPES } from '../../api/status.js';
import type { ConditionInput } from './conditions.js';
import type { PolicyObject } from './context.js';
import { CONDITION_REASONS } from './reasons.js';
import type { RenderFailureReason, RenderResult } from './render.js';
import { mountedConfigMap, targetState } from './target-state.js';
import type { TargetResolution } from './targets.js';

export const READY_REASONS = {
  ready: 'Rendered',
  conflicted: 'Conflicted',
  targetNotFound: 'TargetNotFound',
  noTargets: 'NoTargets',
  notInjected: 'TargetsNotInjected',
  notConfigured: 'TargetsNotConfigured',
} as const satisfies Record<string, ReadyReason>;

/** The documented reasons (reasons.ts): a reason written here but missing there does not compile. */
type ReadyReason = (typeof CONDITION_REASONS.Ready.true)[number] | (typeof CONDITION_REASONS.Ready.false)[number];
type AcceptedFalseReason = (typeof CONDITION_REASONS.Accepted.false)[number];
const renderReason = (reason: RenderFailureReason): AcceptedFalseReason & ReadyReason => reason;

const WEBHOOK_CHECK = 'is the operator\'s webhook reachable? With failurePolicy: Ignore the API server admits Deployments unchanged when it is not; '
  + 'check `kubectl get mutatingwebhookconfigurations` and the operator\'s logs';

function notInjectedMessage(deployment: V1Deployment): string {
  const name = deployment.metadata?.name ?? '';
  const namespace = deployment.metadata?.namespace ?? '';
  if (deployment.metadata?.annotations?.[ANNOTATIONS.inject] !== 'true') {
    return `Deployment ${name} runs no badgateway sidecar: \`kubectl annotate deployment ${name} -n ${namespace} ${ANNOTATIONS.inject}=true\` (its pods get the sidecar at the next rollout)`;
  }
  return `Deployment ${name} is annotated ${ANNOTATIONS.inject}=true but the webhook did not inject it (${WEBHOOK_CHECK}), then \`kubectl rollout restart deployment/${name} -n ${namespace}\``;
}

function notConfiguredMessage(deployment: V1Deployment, policyName: string): string {
  const name = deployment.metadata?.name ?? '';
  const namespace = deployment.metadata?.namespace ?? '';
  const mounted = mountedConfigMap(deployment);
  const what = `Deployment ${name} runs the sidecar ${mounted === undefined ? 'on its defaults' : `with ConfigMap ${mounted}`}, not with ${configMapNameFor(policyName)}, so this policy's settings do not apply`;
  if (deployment.metadata?.annotations?.[ANNOTATIONS.inject] !== 'true') {
    return `${what}; it is not annotated ${ANNOTATIONS.inject}=true, so the webhook cannot fix it: annotate it, or run \`badgateway inject\` with this policy in the same input`;
  }
  return `${what}; the operator marked it for re-injection, and if this persists the webhook did not run at its rollout (${WEBHOOK_CHECK}), then \`kubectl rollout restart deployment/${name} -n ${namespace}\``;
}

function noTargetsMessage(policy: PolicyObject): string {
  const name = policy.metadata?.name ?? '';
  const namespace = policy.metadata?.namespace ?? '';
  const named = `no Deployment is annotated ${ANNOTATIONS.policy}=${name}`;
  if (policy.spec?.selector !== undefined) {
    return `spec.selector matches no Deployment's pod template labels in namespace ${namespace} and ${named}; fix the selector or label a Deployment`;
  }
  return `the policy has no spec.targetRef or spec.selector and ${named} in namespace ${namespace}; add a targetRef or a selector`;
}

export function readyCondition(policy: PolicyObject, rendered: RenderResult, targets: TargetResolution): ConditionInput {
  const type = CONDITION_TYPES.ready;
  const name = policy.metadata?.name ?? '';
  if (!rendered.ok) return { type, status: 'False', reason: renderReason(rendered.reason), message: `${rendered.message}; fix the spec (the last good configuration stays in effect)` };
  if (targets.lost.length > 0) {
    return { type, status: 'False', reason: READY_REASONS.conflicted, message: 'Some targets are governed by another policy (see the Conflicted condition); retarget one of the policies' };
  }
  if (targets.won.length === 0) {
    const ref = policy.spec?.targetRef;
    if (ref?.name !== undefined) {
      const message = `spec.targetRef: ${ref.kind ?? 'Deployment'} ${ref.name} not found in namespace ${policy.metadata?.namespace ?? ''}; create it or point targetRef at an existing Deployment`;
      return { type, status: 'False', reason: READY_REASONS.targetNotFound, message };
    }
    return { type, status: 'False', reason: READY_REASONS.noTargets, message: noTargetsMessage(policy) };
  }
  const notInjected = targets.won.filter((deployment) => targetState(deployment, name) === 'not-injected');
  if (notInjected.length > 0) return { type, status: 'False', reason: READY_REASONS.notInjected, message: notInjected.map(notInjectedMessage).join('; ') };
  const notConfigured = targets.won.filter((deployment) => targetState(deployment, name) === 'not-configured');
  if (notConfigured.length > 0) {
    return { type, status: 'False', reason: READY_REASONS.notConfigured, message: notConfigured.map((deployment) => notConfiguredMessage(deployment, name)).join('; ') };
  }
  const count = targets.won.length;
  return { type, status: 'True', reason: READY_REASONS.ready, message: `${count} target${count === 1 ? '' : 's'} run${count === 1 ? 's' : ''} the sidecar with ConfigMap ${configMapNameFor(name)}` };
}

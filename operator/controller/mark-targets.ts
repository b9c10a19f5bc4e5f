/**
 * The `badgateway.io/policy-hash` pod-template annotation: stamped when a Deployment's effective
 * policy changes, removed when no policy claims it any more. Either edit rolls the Deployment, and
 * the webhook re-renders its sidecar for the new policy (or for none). Content changes of a policy
 * do not touch it: they reach sidecars by ConfigMap hot reload.
 *
 * The stamp's patch answers with the Deployment as admitted, the webhook's re-injection included:
 * the reconcile judges that target from it, instead of waiting for the watch to bring the same
 * object back and a second reconcile to read it.
 */
import { PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { ANNOTATIONS } from '../../api/names.js';
import { claimingPolicies } from '../inject/policy-match.js';
import type { ReconcileContext } from './context.js';
import { contentHash } from './render.js';

type MarkContext = Pick<ReconcileContext, 'clients' | 'caches' | 'logger'>;

export function policyStamp(namespace: string, policyName: string): string {
  return contentHash(`${namespace}/${policyName}`);
}

/** A merge patch of one annotation: no read-modify-write race with the Deployment's other writers. */
async function patchStamp(context: MarkContext, deployment: V1Deployment, stamp: string | null): Promise<V1Deployment> {
  const patch = { spec: { template: { metadata: { annotations: { [ANNOTATIONS.policyHash]: stamp } } } } };
  return context.clients.apps.patchNamespacedDeployment(
    { name: deployment.metadata?.name ?? '', namespace: deployment.metadata?.namespace ?? '', body: patch },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** Stamps the target for `policyName`; returns it as the API server holds it now (the cached one when already stamped). */
export async function markTarget(context: MarkContext, deployment: V1Deployment, policyName: string): Promise<V1Deployment> {
  const namespace = deployment.metadata?.namespace ?? '';
  const stamp = policyStamp(namespace, policyName);
  if (deployment.spec?.template?.metadata?.annotations?.[ANNOTATIONS.policyHash] === stamp) return deployment;
  const admitted = await patchStamp(context, deployment, stamp);
  context.logger.info({ namespace, deployment: deployment.metadata?.name, policy: policyName }, 'marked target for re-injection');
  return admitted;
}

/** Removes the stamp from Deployments of `namespace` that no policy claims any more. */
export async function releaseUnclaimedTargets(context: MarkContext, namespace: string): Promise<void> {
  const policies = context.caches.policies(namespace).filter((policy) => policy.metadata?.deletionTimestamp === undefined);
  for (const deployment of context.caches.deployments(namespace)) {
    if (deployment.spec?.template?.metadata?.annotations?.[ANNOTATIONS.policyHash] === undefined) continue;
    if (claimingPolicies(policies, deployment).length > 0) continue;
    await patchStamp(context, deployment, null);
    context.logger.info({ namespace, deployment: deployment.metadata?.name }, 'no policy governs this target any more; marked for re-injection');
  }
}

/**
 * Which BadGatewayPolicy applies to a Deployment: the `badgateway.io/policy` annotation names it,
 * else the policies whose targetRef or selector match; when several claim one Deployment the
 * oldest wins (creationTimestamp, then name), as in Gateway API.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { ANNOTATIONS } from '../../api/names.js';
import type { LabelSelector, TargetRef } from '../../api/schema.js';

export interface PolicyLike {
  metadata?: { name?: string; namespace?: string; creationTimestamp?: string | Date };
  spec?: { targetRef?: Partial<TargetRef>; selector?: LabelSelector };
}

export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const expression of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, expression.key);
    const value = labels[expression.key];
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
        if (!has || !values.includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** Whether the policy's own targeting (targetRef or selector) selects the Deployment. */
export function policyTargets(policy: PolicyLike, deployment: V1Deployment): boolean {
  if (policy.metadata?.namespace !== undefined && policy.metadata.namespace !== deployment.metadata?.namespace) return false;
  const spec = policy.spec ?? {};
  if (spec.targetRef !== undefined) {
    return (spec.targetRef.kind ?? 'Deployment') === 'Deployment' && spec.targetRef.name === deployment.metadata?.name;
  }
  if (spec.selector !== undefined) {
    const selector = spec.selector;
    const empty = Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
    return !empty && selectorMatches(selector, deployment.spec?.template?.metadata?.labels ?? {});
  }
  return false;
}

/** Anything with a creation time and a name: policies, and Services that disagree. */
type Aged = Pick<PolicyLike, 'metadata'>;

function age(object: Aged): [number, string] {
  const created = object.metadata?.creationTimestamp;
  const time = created === undefined ? Number.MAX_SAFE_INTEGER : new Date(created).getTime();
  return [time, object.metadata?.name ?? ''];
}

/** Oldest first: the order in which policies win a contested Deployment. */
export function byAge(a: Aged, b: Aged): number {
  const [timeA, nameA] = age(a);
  const [timeB, nameB] = age(b);
  return timeA - timeB || nameA.localeCompare(nameB);
}

/** Every policy claiming the Deployment, the winner first. */
export function claimingPolicies<T extends PolicyLike>(policies: readonly T[], deployment: V1Deployment): T[] {
  const named = deployment.metadata?.annotations?.[ANNOTATIONS.policy];
  return policies
    .filter((policy) => (named !== undefined && policy.metadata?.name === named) || policyTargets(policy, deployment))
    .sort((a, b) => {
      // An explicit annotation outranks targeting.
      if (named !== undefined) {
        if (a.metadata?.name === named) return -1;
        if (b.metadata?.name === named) return 1;
      }
      return byAge(a, b);
    });
}

/** The name of the policy that applies, if any. */
export function effectivePolicyName(policies: readonly PolicyLike[], deployment: V1Deployment): string | undefined {
  const named = deployment.metadata?.annotations?.[ANNOTATIONS.policy];
  if (named !== undefined) return named;
  return claimingPolicies(policies, deployment)[0]?.metadata?.name;
}

/** Which Deployments a policy governs, and who wins contested ones. */
import type { V1Deployment } from '@kubernetes/client-node';
import { claimingPolicies, type PolicyLike } from '../inject/policy-match.js';

export interface TargetResolution {
  /** Deployments this policy is the effective policy for. */
  won: V1Deployment[];
  /** Deployments it claims but another, older policy wins: deployment name → winner. */
  lost: Array<{ deployment: string; winner: string }>;
}

export function resolveTargets(policy: PolicyLike, policies: readonly PolicyLike[], deployments: readonly V1Deployment[]): TargetResolution {
  const name = policy.metadata?.name;
  const namespace = policy.metadata?.namespace;
  const sameNamespace = policies.filter((candidate) => candidate.metadata?.namespace === namespace);
  const result: TargetResolution = { won: [], lost: [] };
  for (const deployment of deployments) {
    if (deployment.metadata?.namespace !== namespace) continue;
    const claimants = claimingPolicies(sameNamespace, deployment);
    if (!claimants.some((candidate) => candidate.metadata?.name === name)) continue;
    const winner = claimants[0]?.metadata?.name ?? '';
    if (winner === name) result.won.push(deployment);
    else result.lost.push({ deployment: deployment.metadata?.name ?? '', winner });
  }
  result.won.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  return result;
}

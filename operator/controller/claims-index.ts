/**
 * Which policies claim each Deployment (by targetRef, selector or the `badgateway.io/policy`
 * annotation), kept up to date from the informers' events, so a Deployment's change re-queues only
 * the policies it concerns instead of every policy of its namespace. A change re-queues those that
 * claim it now and those that claimed it before: a Deployment that stops matching a policy must
 * leave that policy's status (and its Conflicted condition) as surely as a new match enters it.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { claimingPolicies, type PolicyLike } from '../inject/policy-match.js';

export interface ClaimsIndex {
  /** Records the Deployment's claimants now; returns the names of those of now and of before. */
  deploymentChanged(deployment: V1Deployment, policiesInNamespace: readonly PolicyLike[]): string[];
  /** Forgets the Deployment; returns the names of the policies that claimed it. */
  deploymentDeleted(deployment: V1Deployment): string[];
  /** Re-evaluates one policy against the Deployments of its namespace (added, or its spec changed). */
  policyChanged(policy: PolicyLike, deploymentsInNamespace: readonly V1Deployment[]): void;
  policyDeleted(policy: PolicyLike, deploymentsInNamespace: readonly V1Deployment[]): void;
  /** Names of the policies recorded as claiming the Deployment. */
  claimants(namespace: string, deploymentName: string): string[];
}

const keyOf = (namespace: string | undefined, name: string | undefined): string => `${namespace ?? ''}/${name ?? ''}`;
const deploymentKey = (deployment: V1Deployment): string => keyOf(deployment.metadata?.namespace, deployment.metadata?.name);

export function createClaimsIndex(): ClaimsIndex {
  // Only Deployments somebody claims have an entry: most of a fleet costs nothing here.
  const claims = new Map<string, Set<string>>();
  const setClaim = (key: string, policyName: string, claimed: boolean): void => {
    const names = claims.get(key);
    if (claimed) {
      if (names === undefined) claims.set(key, new Set([policyName]));
      else names.add(policyName);
    } else if (names !== undefined && names.delete(policyName) && names.size === 0) {
      claims.delete(key);
    }
  };
  return {
    deploymentChanged: (deployment, policiesInNamespace) => {
      const key = deploymentKey(deployment);
      const before = claims.get(key) ?? new Set<string>();
      const now = new Set(claimingPolicies(policiesInNamespace, deployment).map((policy) => policy.metadata?.name ?? ''));
      if (now.size === 0) claims.delete(key);
      else claims.set(key, now);
      return [...new Set([...before, ...now])];
    },
    deploymentDeleted: (deployment) => {
      const key = deploymentKey(deployment);
      const before = claims.get(key);
      claims.delete(key);
      return before === undefined ? [] : [...before];
    },
    policyChanged: (policy, deploymentsInNamespace) => {
      const name = policy.metadata?.name ?? '';
      for (const deployment of deploymentsInNamespace) {
        setClaim(deploymentKey(deployment), name, claimingPolicies([policy], deployment).length > 0);
      }
    },
    policyDeleted: (policy, deploymentsInNamespace) => {
      const name = policy.metadata?.name ?? '';
      for (const deployment of deploymentsInNamespace) setClaim(deploymentKey(deployment), name, false);
    },
    claimants: (namespace, deploymentName) => [...(claims.get(keyOf(namespace, deploymentName)) ?? [])],
  };
}

/**
 * Which Deployment updates concern a policy: only a change of spec (generation), labels or
 * annotations does. The status writes of a rollout (one per replica step, thousands in a fleet-wide
 * rollout) change none of them, and would otherwise re-queue every policy in the namespace each time.
 */
import { createHash } from 'node:crypto';
import type { V1Deployment } from '@kubernetes/client-node';

export interface DeploymentChanges {
  /** Records the Deployment and says whether it differs from the last one seen under its key. */
  changed(deployment: V1Deployment): boolean;
  forget(deployment: V1Deployment): void;
}

const keyOf = (deployment: V1Deployment): string => `${deployment.metadata?.namespace ?? ''}/${deployment.metadata?.name ?? ''}`;

function fingerprint(deployment: V1Deployment): string {
  const { generation, labels, annotations } = deployment.metadata ?? {};
  // A digest, not the text: 20 bytes a Deployment instead of every label and annotation again.
  return createHash('sha1').update(JSON.stringify([generation, labels, annotations])).digest('base64');
}

export function trackDeploymentChanges(): DeploymentChanges {
  const seen = new Map<string, string>();
  return {
    changed: (deployment) => {
      const key = keyOf(deployment);
      const print = fingerprint(deployment);
      if (seen.get(key) === print) return false;
      seen.set(key, print);
      return true;
    },
    forget: (deployment) => { seen.delete(keyOf(deployment)); },
  };
}

/**
 * Which Deployment updates concern a policy: only a change of spec (generation), labels or
 * the badgateway.io annotations does. The status writes of a rollout (one per replica step, thousands
 * in a fleet-wide rollout) change none of them, and would otherwise re-queue the Deployment's policies
 * each time. Other annotations are left out because the controller reads none of them: the
 * controller-manager's `deployment.kubernetes.io/revision`, bumped after every rollout's spec change,
 * would otherwise re-queue the same policies a second time per rollout.
 */
import { createHash } from 'node:crypto';
import type { V1Deployment } from '@kubernetes/client-node';
import { ANNOTATIONS } from '../../api/names.js';

export interface DeploymentChanges {
  /** Records the Deployment and says whether it differs from the last one seen under its key. */
  changed(deployment: V1Deployment): boolean;
  forget(deployment: V1Deployment): void;
}

const keyOf = (deployment: V1Deployment): string => `${deployment.metadata?.namespace ?? ''}/${deployment.metadata?.name ?? ''}`;

const READ_ANNOTATIONS: readonly string[] = Object.values(ANNOTATIONS);

function fingerprint(deployment: V1Deployment): string {
  const { generation, labels, annotations = {} } = deployment.metadata ?? {};
  const read = READ_ANNOTATIONS.map((name) => annotations[name] ?? null);
  // A digest, not the text: 20 bytes a Deployment instead of every label and annotation again.
  return createHash('sha1').update(JSON.stringify([generation, labels, read])).digest('base64');
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

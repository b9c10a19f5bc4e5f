/**
 * The fleet's objects: namespaces of ten Deployments each (5 replicas; every other one opted in for
 * injection), and policies that each claim one opted-in Deployment, by targetRef or by selector in turn.
 */
import { ANNOTATIONS, API_GROUP, API_VERSION, POLICY_KIND } from '../api/names.js';

export const DEPLOYMENTS_PER_NAMESPACE = 10;
export const REPLICAS = 5;

export interface FleetDeployment {
  namespace: string;
  name: string;
  optedIn: boolean;
}

export const namespaceOf = (index: number): string => `fleet-${Math.floor(index / DEPLOYMENTS_PER_NAMESPACE)}`;

export function fleetDeployments(count: number, offset = 0): FleetDeployment[] {
  return Array.from({ length: count }, (_, position) => {
    const index = offset + position;
    return { namespace: namespaceOf(index), name: `app-${index}`, optedIn: index % 2 === 0 };
  });
}

export function namespaceManifest(name: string): object {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name } };
}

export function deploymentManifest(deployment: FleetDeployment): object {
  const labels = { app: deployment.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: deployment.name,
      namespace: deployment.namespace,
      labels,
      ...(deployment.optedIn ? { annotations: { [ANNOTATIONS.inject]: 'true' } } : {}),
    },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          // kwok runs no containers: the image is never pulled.
          containers: [{ name: 'app', image: 'registry.invalid/fleet/app:1', ports: [{ name: 'http', containerPort: 8080 }] }],
          tolerations: [{ key: 'kwok.x-k8s.io/node', operator: 'Exists', effect: 'NoSchedule' }],
        },
      },
    },
  };
}

export function policyManifest(index: number, target: FleetDeployment): object {
  const claim = index % 2 === 0 ? { targetRef: { kind: 'Deployment', name: target.name } } : { selector: { matchLabels: { app: target.name } } };
  return {
    apiVersion: `${API_GROUP}/${API_VERSION}`,
    kind: POLICY_KIND,
    metadata: { name: `policy-${index}`, namespace: target.namespace },
    spec: { ...claim, errorPages: [] },
  };
}

/** The opted-in Deployments the batch's policies claim, one each. */
export function policyTargets(deployments: readonly FleetDeployment[], policies: number): FleetDeployment[] {
  const optedIn = deployments.filter((deployment) => deployment.optedIn);
  if (policies > optedIn.length) throw new Error(`--policies: at most ${optedIn.length} for ${deployments.length} Deployments (one opted-in Deployment each), got ${policies}`);
  return optedIn.slice(0, policies);
}

/** Up to `samples` opted-in Deployments no batch policy claims, for the policies applied one by one. */
export function singleTargets(deployments: readonly FleetDeployment[], policies: number, samples: number): FleetDeployment[] {
  return deployments.filter((deployment) => deployment.optedIn).slice(policies, policies + samples);
}

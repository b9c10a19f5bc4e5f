/** Which Deployments a policy governs, who wins contested ones, and which Services bypass the sidecar. */
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { SIDECAR_CONTAINER_NAME } from '../../api/names.js';
import { claimingPolicies, selectorMatches, type PolicyLike } from '../inject/policy-match.js';

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

export function isInjected(deployment: V1Deployment): boolean {
  const pod = deployment.spec?.template?.spec;
  return [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])].some((container) => container.name === SIDECAR_CONTAINER_NAME);
}

export interface BypassingService {
  name: string;
  port: number;
  message: string;
}

/** Services selecting the Deployment's pods whose targetPort is an app container port NUMBER. */
export function bypassingServices(deployment: V1Deployment, services: readonly V1Service[]): BypassingService[] {
  const labels = deployment.spec?.template?.metadata?.labels ?? {};
  const appPorts = new Map<number, string | undefined>();
  for (const container of deployment.spec?.template?.spec?.containers ?? []) {
    if (container.name === SIDECAR_CONTAINER_NAME) continue;
    for (const port of container.ports ?? []) appPorts.set(port.containerPort, port.name);
  }
  const found: BypassingService[] = [];
  for (const service of services) {
    if (service.metadata?.namespace !== deployment.metadata?.namespace) continue;
    const selector = service.spec?.selector;
    if (selector === undefined || Object.keys(selector).length === 0 || !selectorMatches({ matchLabels: selector }, labels)) continue;
    for (const port of service.spec?.ports ?? []) {
      const target = port.targetPort ?? port.port;
      if (typeof target !== 'number' || !appPorts.has(target)) continue;
      const portName = appPorts.get(target);
      const hint = portName === undefined ? 'name the container port and target it by name' : `use targetPort: ${portName}`;
      found.push({
        name: service.metadata?.name ?? '',
        port: target,
        message: `Service ${service.metadata?.name ?? ''} targets port ${target} by number, so traffic skips the badgateway sidecar; ${hint}`,
      });
    }
  }
  return found;
}

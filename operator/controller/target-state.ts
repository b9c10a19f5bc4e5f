/**
 * Whether a target's pod template runs the sidecar *with a given policy's configuration*: the
 * sidecar container reads `--config` (or BADGATEWAY_CONFIG) from a mounted volume that is that
 * policy's rendered ConfigMap. A sidecar without it runs on defaults: the policy is not in effect.
 */
import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import { configMapNameFor, SIDECAR_CONTAINER_NAME } from '../../api/names.js';

export type TargetState = 'configured' | 'not-injected' | 'not-configured';

export function sidecarOf(deployment: V1Deployment): V1Container | undefined {
  const pod = deployment.spec?.template?.spec;
  return [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])].find((container) => container.name === SIDECAR_CONTAINER_NAME);
}

export function isInjected(deployment: V1Deployment): boolean {
  return sidecarOf(deployment) !== undefined;
}

/** The sidecar's config file path: `--config FILE`, `--config=FILE`, else env BADGATEWAY_CONFIG. */
function configPath(sidecar: V1Container): string | undefined {
  const args = [...(sidecar.command ?? []), ...(sidecar.args ?? [])];
  for (const [index, arg] of args.entries()) {
    if (arg === '--config') return args[index + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
  }
  return sidecar.env?.find((variable) => variable.name === 'BADGATEWAY_CONFIG')?.value;
}

/** The ConfigMap the sidecar's config file comes from, if it comes from one. */
export function mountedConfigMap(deployment: V1Deployment): string | undefined {
  const sidecar = sidecarOf(deployment);
  const path = sidecar === undefined ? undefined : configPath(sidecar);
  if (sidecar === undefined || path === undefined) return undefined;
  const mount = sidecar.volumeMounts?.find((candidate) => path.startsWith(`${candidate.mountPath.replace(/\/+$/, '')}/`));
  if (mount === undefined) return undefined;
  const volume = deployment.spec?.template?.spec?.volumes?.find((candidate) => candidate.name === mount.name);
  return volume?.configMap?.name;
}

export function targetState(deployment: V1Deployment, policyName: string): TargetState {
  if (!isInjected(deployment)) return 'not-injected';
  return mountedConfigMap(deployment) === configMapNameFor(policyName) ? 'configured' : 'not-configured';
}

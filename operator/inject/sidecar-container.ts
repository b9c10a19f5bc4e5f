/** The badgateway sidecar container, as injected. */
import type { V1Container, V1EnvVar, V1Volume } from '@kubernetes/client-node';
import { CONFIG_KEY, CONFIG_MOUNT_PATH, configMapNameFor, SIDECAR_ADMIN_PORT, SIDECAR_CONTAINER_NAME, SIDECAR_PROXY_PORT } from '../../api/names.js';
import type { InjectionSettings } from './settings.js';

export const CONFIG_VOLUME_NAME = 'badgateway-config';
export const ADMIN_PORT_NAME = 'bgw-admin';
export const DEFAULT_PROXY_PORT_NAME = 'bgw-proxy';

/**
 * V8 heap sizing for the sidecar: a small young generation (4 MiB semi-spaces instead of up to
 * 16) and an old generation capped at a quarter of the container's memory limit (64 MiB under the
 * default 256Mi): most of what the sidecar holds under load is socket buffers outside V8's heap,
 * so the heap must leave them room. The sidecar relaxes the old generation's growth itself
 * (sidecar/old-generation-growth.ts); with 2 MiB semi-spaces it still fell, in 2 of 5 starts,
 * into a full collection every 80-140 ms (docs/performance.md, items 10, 20 and 21).
 */
export const SIDECAR_NODE_OPTIONS = '--max-semi-space-size=4 --max-old-space-size-percentage=25';

/**
 * The injected container's environment. MALLOC_ARENA_MAX: glibc gives each thread that allocates
 * (V8's GC helpers, libuv's pool) an arena of its own, up to 8 per core, and keeps their freed
 * memory; two arenas cut the sidecar's peak RSS under 512 connections by 15-20 MiB at no measured
 * CPU cost (docs/performance.md).
 */
export const SIDECAR_ENV: readonly Readonly<V1EnvVar>[] = [
  { name: 'NODE_OPTIONS', value: SIDECAR_NODE_OPTIONS },
  { name: 'MALLOC_ARENA_MAX', value: '2' },
];

export interface SidecarSpec {
  appPort: number;
  /** Passed as --app-protocol when not the default http1. */
  appProtocol?: 'http1' | 'h2c';
  proxyPortName: string;
  policyName?: string;
  native: boolean;
  cpu?: string;
  memory?: string;
}

export function sidecarContainer(spec: SidecarSpec, settings: InjectionSettings): V1Container {
  const args = [
    'sidecar',
    '--upstream', `http://127.0.0.1:${spec.appPort}`,
    '--listen', `0.0.0.0:${SIDECAR_PROXY_PORT}`,
    '--admin', `0.0.0.0:${SIDECAR_ADMIN_PORT}`,
  ];
  if (spec.appProtocol === 'h2c') args.push('--app-protocol', 'h2c');
  if (spec.policyName !== undefined) args.push('--config', `${CONFIG_MOUNT_PATH}/${CONFIG_KEY}`);
  if (settings.logLevel !== undefined) args.push('--log-level', settings.logLevel);
  const limits: Record<string, string> = { memory: spec.memory ?? settings.resources.limits.memory };
  if (settings.resources.limits.cpu !== undefined) limits.cpu = settings.resources.limits.cpu;
  const uid = settings.runAsUser ?? 65532;
  const container: V1Container = {
    name: SIDECAR_CONTAINER_NAME,
    image: settings.image,
    args,
    env: SIDECAR_ENV.map((variable) => ({ ...variable })),
    ports: [
      { name: spec.proxyPortName, containerPort: SIDECAR_PROXY_PORT, protocol: 'TCP' },
      { name: ADMIN_PORT_NAME, containerPort: SIDECAR_ADMIN_PORT, protocol: 'TCP' },
    ],
    readinessProbe: { httpGet: { path: '/readyz', port: ADMIN_PORT_NAME }, periodSeconds: 5, failureThreshold: 2 },
    livenessProbe: { httpGet: { path: '/healthz', port: ADMIN_PORT_NAME }, periodSeconds: 10, failureThreshold: 3 },
    resources: {
      requests: { cpu: spec.cpu ?? settings.resources.requests.cpu, memory: spec.memory ?? settings.resources.requests.memory },
      limits,
    },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: uid,
      runAsGroup: uid,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
  if (settings.imagePullPolicy !== undefined) container.imagePullPolicy = settings.imagePullPolicy;
  if (spec.policyName !== undefined) container.volumeMounts = [{ name: CONFIG_VOLUME_NAME, mountPath: CONFIG_MOUNT_PATH, readOnly: true }];
  if (spec.native) {
    container.restartPolicy = 'Always';
    // Main containers start only once a native sidecar's startup probe passes.
    container.startupProbe = { httpGet: { path: '/readyz', port: ADMIN_PORT_NAME }, periodSeconds: 1, failureThreshold: 30 };
  }
  return container;
}

/** Optional, so a policy that does not exist (yet) means defaults rather than a stuck pod. */
export function configVolume(policyName: string): V1Volume {
  return { name: CONFIG_VOLUME_NAME, configMap: { name: configMapNameFor(policyName), optional: true } };
}

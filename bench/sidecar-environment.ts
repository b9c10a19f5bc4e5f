/** The environment the operator injects into the sidecar container, as the benchmarks run the sidecar with it. */
import { join } from 'node:path';

export async function injectedEnvironment(root: string): Promise<Record<string, string>> {
  const { SIDECAR_ENV } = await import(join(root, 'dist', 'operator', 'inject', 'sidecar-container.js')) as { SIDECAR_ENV: { name: string; value: string }[] };
  return Object.fromEntries(SIDECAR_ENV.map((variable) => [variable.name, variable.value]));
}

/** The old-generation growth the sidecar sets for itself (sidecar/old-generation-growth.ts). */
export async function sidecarHeapGrowingPercent(root: string): Promise<number> {
  const { SIDECAR_HEAP_GROWING_PERCENT } = await import(join(root, 'dist', 'sidecar', 'old-generation-growth.js')) as { SIDECAR_HEAP_GROWING_PERCENT: number };
  return SIDECAR_HEAP_GROWING_PERCENT;
}

/**
 * The injected old-space cap is a percentage of the container's memory limit; this machine has no
 * such limit, so the bench sets the cap that percentage gives for the default limit.
 */
export async function withDefaultOldSpaceCap(root: string, nodeOptions: string): Promise<string> {
  const { DEFAULT_INJECTION_SETTINGS } = await import(join(root, 'dist', 'operator', 'inject', 'settings.js')) as { DEFAULT_INJECTION_SETTINGS: { resources: { limits: { memory: string } } } };
  const limitMiB = Number(/^(\d+)Mi$/.exec(DEFAULT_INJECTION_SETTINGS.resources.limits.memory)?.[1] ?? NaN);
  return nodeOptions.replace(/--max-old-space-size-percentage=(\d+)/, (_flag, percent: string) => `--max-old-space-size=${Math.floor((limitMiB * Number(percent)) / 100)}`);
}

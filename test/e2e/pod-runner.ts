/**
 * The kubelet stand-in: starts the injected badgateway container of a stored pod template as a real
 * process, exactly as the template says (args, env), with its configMap volume materialised as a
 * kubelet-style folder. Only what a pod's own network namespace would make unnecessary is
 * rewritten: listen addresses go to 127.0.0.1 on free ports (other tests share this machine).
 */
import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import { closedPort } from '../support/faulty-upstream.js';
import { startCli } from '../support/cli.js';

export interface RunningSidecar {
  proxy: string;
  admin: string;
  pid: number;
  /** argv the process was started with, after the rewrites below. */
  args: string[];
  output(): string;
  stop(): void;
}

/** The badgateway container of a pod template: a native sidecar (initContainers) or a regular one. */
export function sidecarContainer(deployment: V1Deployment): V1Container {
  const spec = deployment.spec?.template.spec;
  const all = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  const found = all.find((container) => container.name === 'badgateway');
  if (found === undefined) throw new Error(`the stored Deployment has no badgateway container: ${all.map((container) => container.name).join(', ')}`);
  return found;
}

/** Replaces the value after `flag` (or appends the flag). Does not mutate `args`. */
function withFlag(args: readonly string[], flag: string, value: string): string[] {
  const index = args.indexOf(flag);
  if (index === -1) return [...args, flag, value];
  return [...args.slice(0, index + 1), value, ...args.slice(index + 2)];
}

export async function startSidecarFromTemplate(deployment: V1Deployment, mounts: Readonly<Record<string, string>>): Promise<RunningSidecar> {
  const container = sidecarContainer(deployment);
  // The image's entrypoint is `node dist/cli/main.js`; command, when set, replaces it.
  if (container.command !== undefined) throw new Error(`unexpected command override ${JSON.stringify(container.command)}`);
  let args = [...(container.args ?? [])];
  // Mounted paths: the kubelet binds the volume at mountPath; here the folder stands in for it.
  args = args.map((arg) => Object.entries(mounts).reduce((text, [mountPath, folder]) => (text.startsWith(`${mountPath}/`) ? `${folder}${text.slice(mountPath.length)}` : text), arg));
  const proxyPort = await closedPort();
  const adminPort = await closedPort();
  args = withFlag(withFlag(args, '--listen', `127.0.0.1:${proxyPort}`), '--admin', `127.0.0.1:${adminPort}`);
  const env: NodeJS.ProcessEnv = {};
  for (const variable of container.env ?? []) {
    if (variable.value === undefined) throw new Error(`env ${variable.name} uses valueFrom, which this stand-in does not resolve`);
    env[variable.name] = variable.value;
  }
  const started = startCli(args, env);
  return {
    proxy: `http://127.0.0.1:${proxyPort}`,
    admin: `http://127.0.0.1:${adminPort}`,
    pid: started.child.pid ?? 0,
    args,
    output: started.output,
    stop: () => started.child.kill('SIGKILL'),
  };
}

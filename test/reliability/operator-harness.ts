/**
 * Helpers for running the BUILT operator (`badgateway operator`) against the test API server:
 * what is missing before it can run, starting replicas with distinct identities and free ports,
 * and the objects of the scenario (namespace, Deployments, policies).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_GROUP, API_VERSION, POLICY_PLURAL } from '../../api/names.js';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../operator/kube/clients.js';
import { closedPort } from '../support/faulty-upstream.js';
import { repoRoot, runCli, startCli } from '../support/cli.js';

/** What the fault tests need from others, named; empty when everything is there. */
export async function missingForOperatorTests(): Promise<string[]> {
  const missing: string[] = [];
  if (!existsSync(join(repoRoot, 'test', 'support', 'apiserver', 'index.ts'))) missing.push('test/support/apiserver/index.ts (startTestApiServer) is missing');
  const help = await runCli(['operator', '--help']);
  if (/not implemented/.test(help.stdout + help.stderr)) missing.push('`badgateway operator` is not implemented (cli/operator-command.ts)');
  return missing;
}

export interface OperatorReplica {
  identity: string;
  child: ReturnType<typeof startCli>['child'];
  output(): string;
  kill(): void;
}

/** Starts one replica; an HTTP/health port flag, if the CLI has one, gets a free port (replicas share this machine). */
export async function startOperatorReplica(kubeconfigPath: string, identity: string, extraArgs: readonly string[] = []): Promise<OperatorReplica> {
  const help = await runCli(['operator', '--help']);
  const portFlag = /(--(?:health|http|metrics|probe)[\w-]*(?:port|addr|address|bind|listen))\b/.exec(help.stdout)?.[1];
  const args = ['operator', '--kubeconfig', loopbackKubeconfig(kubeconfigPath), '--no-webhook', ...extraArgs];
  if (portFlag !== undefined) {
    const port = await closedPort();
    args.push(portFlag, portFlag.endsWith('port') ? String(port) : `127.0.0.1:${port}`);
  }
  const started = startCli(args, { POD_NAME: identity, HOSTNAME: identity, POD_NAMESPACE: 'badgateway-system', BADGATEWAY_LOG_LEVEL: 'warn' });
  return { identity, child: started.child, output: started.output, kill: () => started.child.kill('SIGKILL') };
}

/**
 * client-node 2 refuses plain http:// unless the cluster says insecure-skip-tls-verify; the test API
 * server speaks http on loopback. Returns a kubeconfig path that says so (the input when it already does).
 */
export function loopbackKubeconfig(kubeconfigPath: string): string {
  const text = readFileSync(kubeconfigPath, 'utf8');
  if (!/server: http:\/\//.test(text) || text.includes('insecure-skip-tls-verify')) return kubeconfigPath;
  const patched = `${kubeconfigPath}.loopback`;
  writeFileSync(patched, text.replace(/(\n(\s+)server: http:\/\/[^\n]+)/, '$1\n$2insecure-skip-tls-verify: true'), { mode: 0o600 });
  return patched;
}

export function clientsFor(kubeconfigPath: string): KubeClients {
  return createKubeClients(loadKubeConfig(loopbackKubeconfig(kubeconfigPath)));
}

export async function createNamespace(clients: KubeClients, name: string): Promise<void> {
  await clients.core.createNamespace({ body: { metadata: { name } } });
}

export async function createAnnotatedDeployment(clients: KubeClients, namespace: string, name: string): Promise<void> {
  await clients.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name, namespace, annotations: { 'badgateway.io/inject': 'true' } },
      spec: {
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'example/app:1', ports: [{ name: 'http', containerPort: 8080 }] }] } },
      },
    },
  });
}

export interface PolicyObject {
  metadata: { name: string; generation?: number; resourceVersion?: string };
  spec: Record<string, unknown>;
  status?: { observedGeneration?: number; configMap?: string };
}

export const policyApi = (clients: KubeClients, namespace: string) => ({
  create: (name: string, page: string) => clients.custom.createNamespacedCustomObject({
    group: API_GROUP, version: API_VERSION, namespace, plural: POLICY_PLURAL,
    body: { apiVersion: `${API_GROUP}/${API_VERSION}`, kind: 'BadGatewayPolicy', metadata: { name, namespace }, spec: { targetRef: { kind: 'Deployment', name }, errorPages: [{ status: 502, contentType: 'text/html', body: page }] } },
  }),
  get: async (name: string) => await clients.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: POLICY_PLURAL, name }) as PolicyObject,
  /** Read-modify-write with the read resourceVersion: a concurrent writer makes it fail with 409. */
  setPage: async (name: string, page: string) => {
    const current = await clients.custom.getNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: POLICY_PLURAL, name }) as PolicyObject;
    const body = { ...current, spec: { ...current.spec, errorPages: [{ status: 502, contentType: 'text/html', body: page }] } };
    await clients.custom.replaceNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: POLICY_PLURAL, name, body });
  },
});

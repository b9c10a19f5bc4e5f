/**
 * What tests do on the real cluster besides using the operator's own client: namespaces of their
 * own, raw-JSON creates (as `kubectl create -f` sends them), and ServiceAccount tokens from the
 * real TokenRequest API, as a pod's projected token would be.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeconfigYaml } from '../cluster/pki.js';
import { clusterRequest, type Cluster } from './cluster.js';

export interface CreateAnswer {
  status: number;
  body: unknown;
}

/** Has the shape of TestApiServer's `create`/`post`, so helpers written for it serve both. */
export interface ClusterApi {
  create(object: { apiVersion: string; kind: string; metadata: { namespace?: string } }, namespace?: string): Promise<CreateAnswer>;
  post(path: string, body: unknown): Promise<number>;
}

export function clusterApi(cluster: Cluster): ClusterApi {
  return {
    create: async (object, namespace) => {
      const groupVersionPath = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
      const discovery = await clusterRequest(cluster, 'GET', groupVersionPath);
      const resources = (discovery.body as { resources?: Array<{ name: string; kind: string; namespaced: boolean }> }).resources;
      const resource = resources?.find((candidate) => candidate.kind === object.kind && !candidate.name.includes('/'));
      if (resource === undefined) return { status: 404, body: { message: `no resource for ${object.apiVersion} ${object.kind}` } };
      const scope = resource.namespaced ? `/namespaces/${namespace ?? object.metadata.namespace ?? 'default'}` : '';
      return clusterRequest(cluster, 'POST', `${groupVersionPath}${scope}/${resource.name}`, object);
    },
    post: async (path, body) => (await clusterRequest(cluster, 'POST', path, body)).status,
  };
}

/** A fresh namespace named `<prefix>-<random>`; delete it with `deleteNamespace`. */
export async function createNamespace(cluster: Cluster, prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const answer = await clusterRequest(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  if (answer.status !== 201) throw new Error(`creating namespace ${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return name;
}

/** Starts the namespace's deletion (the namespace controller finishes it in the background). */
export async function deleteNamespace(cluster: Cluster, name: string): Promise<void> {
  const answer = await clusterRequest(cluster, 'DELETE', `/api/v1/namespaces/${name}`);
  if (answer.status !== 200 && answer.status !== 202 && answer.status !== 404) throw new Error(`deleting namespace ${name}: ${answer.status}`);
}

/** Creates the ServiceAccount unless it exists. */
export async function ensureServiceAccount(cluster: Cluster, namespace: string, name: string): Promise<void> {
  const answer = await clusterRequest(cluster, 'POST', `/api/v1/namespaces/${namespace}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
  if (answer.status !== 201 && answer.status !== 409) throw new Error(`creating ServiceAccount ${namespace}/${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
}

/**
 * A kubeconfig that authenticates as the ServiceAccount with a token the apiserver issued for it
 * (TokenRequest, one hour): its requests get exactly what RBAC grants that account.
 */
export async function serviceAccountKubeconfig(cluster: Cluster, namespace: string, name: string): Promise<string> {
  const answer = await clusterRequest(cluster, 'POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 },
  });
  const token = (answer.body as { status?: { token?: string } }).status?.token;
  if (answer.status !== 201 || token === undefined) throw new Error(`TokenRequest for ${namespace}/${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
  const path = join(mkdtempSync(join(tmpdir(), 'sa-kubeconfig-')), 'kubeconfig');
  writeFileSync(path, kubeconfigYaml(cluster.url, cluster.caPem, token, `system:serviceaccount:${namespace}:${name}`, namespace), { mode: 0o600 });
  return path;
}

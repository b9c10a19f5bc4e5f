/**
 * A single-process, in-memory, Kubernetes-compatible API server for tests: the real
 * @kubernetes/client-node talks to it over HTTP with a bearer token from a kubeconfig it writes.
 * See README.md in this folder for what it does and does not do yet.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiServerCore } from './server.js';

export interface TestApiServer {
  url: string;
  kubeconfigPath: string;
  kubeConfigYaml: string;
  faults: {
    /** Answer the next `count` requests with 500 or 429. */
    failNext(count: number, code?: 500 | 429): void;
    latency(ms: number): void;
    /** Hold requests of `method` to paths matching `path` until the returned function is called. */
    hold(method: string, path: RegExp): () => void;
    /** End every open watch stream (clients reconnect from their last resourceVersion). */
    dropWatches(): void;
    /** Forget the event history: watches from an older resourceVersion get 410 Gone. */
    expireResourceVersions(): void;
  };
  /**
   * Admission webhooks given as `clientConfig.service` are called at this local port (there is no
   * cluster DNS); TLS is still verified for the name `<name>.<namespace>.svc`.
   */
  routeService(namespace: string, name: string, port: number, host?: string): void;
  /**
   * Creates any object from its own apiVersion/kind as `kubectl create -f` does (raw JSON, through
   * admission); resolves to the status code and the answer.
   */
  create(object: { apiVersion: string; kind: string; metadata: { namespace?: string } }, namespace?: string): Promise<{ status: number; body: unknown }>;
  /**
   * A kubeconfig whose token authenticates as the ServiceAccount `namespace/name`: its requests get
   * exactly what RBAC objects in the server grant it (the admin kubeconfig may do anything).
   */
  serviceAccountKubeconfig(namespace: string, name: string): string;
  /** POSTs raw JSON as kubectl does (no client-side model serialization); resolves to the status code. */
  post(path: string, body: unknown): Promise<number>;
  close(): Promise<void>;
}

export interface TestApiServerOptions {
  gitVersion?: string;
  port?: number;
  token?: string;
  /**
   * Creating an object in a namespace that does not exist is 404, as on a real server. Off by
   * default for in-process tests that use namespaces without creating them; on for the real
   * clients' tests and the standalone server.
   */
  strictNamespaces?: boolean;
}

export async function startTestApiServer(options: TestApiServerOptions = {}): Promise<TestApiServer> {
  const token = options.token ?? randomBytes(16).toString('hex');
  const core = new ApiServerCore(options.gitVersion ?? 'v1.30.0', token, options.strictNamespaces ?? false);
  const server: Server = createServer((req, res) => void core.handle(req, res));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const directory = mkdtempSync(join(tmpdir(), 'test-apiserver-'));
  const kubeconfigPath = join(directory, 'kubeconfig');
  const kubeConfigYaml = kubeconfigText(url, token, 'default');
  writeFileSync(kubeconfigPath, kubeConfigYaml, { mode: 0o600 });
  let serviceAccounts = 0;
  return {
    url,
    kubeconfigPath,
    kubeConfigYaml,
    faults: {
      failNext: (count, code = 500) => { core.faults.failNext = { count, code }; },
      latency: (ms) => { core.faults.latencyMs = ms; },
      hold: (method, path) => {
        let release = (): void => {};
        const until = new Promise<void>((resolve) => { release = resolve; });
        const hold = { method, path, until };
        core.faults.holds.push(hold);
        return () => {
          core.faults.holds.splice(core.faults.holds.indexOf(hold), 1);
          release();
        };
      },
      dropWatches: () => core.dropWatches(),
      expireResourceVersions: () => core.store.expireHistory(),
    },
    serviceAccountKubeconfig: (namespace, name) => {
      const serviceAccountToken = randomBytes(16).toString('hex');
      core.authorizer.addServiceAccountToken(serviceAccountToken, namespace, name);
      serviceAccounts += 1;
      const path = join(directory, `kubeconfig-${namespace}-${name}-${serviceAccounts}`);
      writeFileSync(path, kubeconfigText(url, serviceAccountToken, namespace), { mode: 0o600 });
      return path;
    },
    routeService: (namespace, name, port, host = '127.0.0.1') => core.admission.routeService(namespace, name, { host, port }),
    create: async (object, namespace) => {
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const groupVersionPath = object.apiVersion.includes('/') ? `/apis/${object.apiVersion}` : `/api/${object.apiVersion}`;
      const discovery = await (await fetch(`${url}${groupVersionPath}`, { headers })).json() as { resources?: Array<{ name: string; kind: string; namespaced: boolean }> };
      const resource = discovery.resources?.find((candidate) => candidate.kind === object.kind && !candidate.name.includes('/'));
      if (resource === undefined) return { status: 404, body: { message: `no resource for ${object.apiVersion} ${object.kind}` } };
      const scope = resource.namespaced ? `/namespaces/${namespace ?? object.metadata.namespace ?? 'default'}` : '';
      const response = await fetch(`${url}${groupVersionPath}${scope}/${resource.name}`, { method: 'POST', headers, body: JSON.stringify(object) });
      return { status: response.status, body: await response.json() };
    },
    post: async (path, body) => {
      const response = await fetch(`${url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      await response.body?.cancel();
      return response.status;
    },
    close: async () => {
      core.dropWatches();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

function kubeconfigText(url: string, token: string, namespace: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    // client-node 2 refuses plain HTTP unless TLS verification is explicitly off.
    `- name: test\n  cluster:\n    server: ${url}\n    insecure-skip-tls-verify: true`,
    'users:',
    `- name: test\n  user:\n    token: ${token}`,
    'contexts:',
    `- name: test\n  context:\n    cluster: test\n    user: test\n    namespace: ${namespace}`,
    'current-context: test',
    '',
  ].join('\n');
}

/**
 * The fleet bench's control plane: the real one started here (as `npm run cluster` does) or the one
 * a `--kubeconfig` names, plus raw JSON requests with a bounded number in flight.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { apiRequest, type ApiAnswer, type ApiTarget } from '../test/cluster/api-request.js';
import { ensureBinaries } from '../test/cluster/binaries.js';
import { startControlPlane } from '../test/cluster/control-plane.js';

export interface FleetCluster {
  target: ApiTarget;
  /** Only when the bench started the control plane itself. */
  stop?(): Promise<void>;
  /** Restarts kube-apiserver alone (etcd keeps the data); only when the bench started the control plane. */
  restartApiserver?(): Promise<void>;
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: Array<{ name: string; context: { cluster: string; user: string } }>;
  clusters?: Array<{ name: string; cluster: { server: string; 'certificate-authority-data'?: string } }>;
  users?: Array<{ name: string; user: { token?: string } }>;
}

/** The current context's server, CA and bearer token: what the bench's raw requests need. */
export function targetFromKubeconfig(path: string): ApiTarget {
  const config = parse(readFileSync(path, 'utf8')) as KubeconfigFile;
  const context = config.contexts?.find((candidate) => candidate.name === config['current-context'])?.context;
  const cluster = config.clusters?.find((candidate) => candidate.name === context?.cluster)?.cluster;
  const token = config.users?.find((candidate) => candidate.name === context?.user)?.user.token;
  const ca = cluster?.['certificate-authority-data'];
  if (cluster === undefined || ca === undefined || token === undefined) {
    throw new Error(`--kubeconfig ${path}: the current context needs a server, certificate-authority-data and a token user`);
  }
  return { url: cluster.server, caPem: Buffer.from(ca, 'base64').toString('utf8'), token };
}

export async function connectCluster(kubeconfig: string | undefined, nodes: number, log: (line: string) => void): Promise<FleetCluster> {
  if (kubeconfig !== undefined) return { target: targetFromKubeconfig(kubeconfig) };
  const binaries = await ensureBinaries(log);
  const controlPlane = await startControlPlane({ binaries, nodes, log: (line) => log(`cluster: ${line}`) });
  return {
    target: { url: controlPlane.url, caPem: controlPlane.caPem, token: controlPlane.adminToken },
    stop: () => controlPlane.stop(),
    restartApiserver: () => controlPlane.restartApiserver(),
  };
}

/** A request that must answer one of `expected`, else an error naming it and the answer. */
export async function must(target: ApiTarget, method: string, path: string, body: unknown, expected: number[]): Promise<ApiAnswer> {
  const answer = await apiRequest(target, method, path, body, 60_000);
  if (!expected.includes(answer.status)) throw new Error(`${method} ${path}: ${answer.status} ${answer.body.slice(0, 300)}`);
  return answer;
}

export async function mergePatch(target: ApiTarget, path: string, body: unknown): Promise<void> {
  const payload = JSON.stringify(body);
  const { request } = await import('node:https');
  await new Promise<void>((resolve, reject) => {
    const req = request(`${target.url}${path}`, {
      method: 'PATCH', ca: target.caPem, timeout: 60_000,
      headers: { authorization: `Bearer ${target.token}`, 'content-type': 'application/merge-patch+json', 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PATCH ${path}: ${res.statusCode} ${text.slice(0, 300)}`))));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
export async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export async function getJson<T>(target: ApiTarget, path: string): Promise<T> {
  return JSON.parse((await must(target, 'GET', path, undefined, [200])).body) as T;
}

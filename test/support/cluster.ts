/**
 * The real control plane under the tests (test/cluster/): ONE per jest run, started by the first
 * test file that asks for it (`npm run cluster` as a detached process, so it outlives the worker
 * that started it), stopped by the run's global teardown (cluster-teardown.cjs), and stopping on
 * its own when the jest process dies. Tests share it through namespaces of their own.
 *
 * BADGATEWAY_TEST_KUBECONFIG=FILE points the tests at a cluster that is already running
 * (`npm run cluster -- --kubeconfig FILE` in another terminal) and skips the start.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { builtBinaries, type ClusterBinaries } from '../cluster/binaries.js';
import { startControlPlane } from '../cluster/control-plane.js';
import { apiRequest, type ApiTarget } from '../cluster/api-request.js';
import { repoRoot } from './cli.js';

export interface Cluster extends ApiTarget {
  /** An admin (system:masters) kubeconfig. */
  kubeconfigPath: string;
  kubeconfigText: string;
}

const START_TIMEOUT_MS = 180_000;
let shared: Promise<Cluster> | undefined;

/** The run's cluster, started on first use. Give the calling hook a timeout of CLUSTER_START_TIMEOUT_MS. */
export function sharedCluster(): Promise<Cluster> {
  shared ??= connect();
  return shared;
}

export const CLUSTER_START_TIMEOUT_MS = START_TIMEOUT_MS + 10_000;

async function connect(): Promise<Cluster> {
  const external = process.env.BADGATEWAY_TEST_KUBECONFIG;
  if (external !== undefined && external !== '') return fromKubeconfig(external);
  const runDir = process.env.BADGATEWAY_CLUSTER_RUN_DIR;
  if (runDir === undefined) throw new Error('no cluster for this run: jest.config.js\'s globalSetup (test/support/cluster-setup.cjs) did not run');
  const kubeconfigPath = join(runDir, 'kubeconfig');
  const logPath = join(runDir, 'cluster.log');
  try {
    mkdirSync(join(runDir, 'started'));
    launch(runDir, kubeconfigPath, logPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error; // another worker launched it
  }
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!existsSync(kubeconfigPath)) {
    if (!launcherAlive(runDir) || Date.now() > deadline) {
      const log = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
      throw new Error(`the test cluster did not start (${logPath}):\n${log.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return fromKubeconfig(kubeconfigPath);
}

function requireBinaries(): ClusterBinaries {
  const binaries = builtBinaries();
  if (binaries === undefined) {
    throw new Error('the control-plane binaries are not built for the current pins: run `npm run cluster -- --build-only` first (README, "For contributors"; .ci/run does)');
  }
  return binaries;
}

export interface PrivateCluster {
  ready: Promise<Cluster>;
  /** Stops the control plane and removes its data, at any point: also while it is still starting. */
  stop(): Promise<void>;
}

/**
 * A control plane of the test's own, for a suite that changes what every test would see (the
 * CRD itself, cluster-wide webhooks under fixed names), started in this process. Keep the handle
 * before awaiting `ready`, and `stop()` it in an afterAll: a hook that timed out while the cluster
 * started would otherwise leave its etcd and kube-apiserver running (they are detached).
 */
export function privateCluster(): PrivateCluster {
  const starting = new AbortController();
  const started = startControlPlane({ binaries: requireBinaries(), signal: starting.signal });
  started.catch(() => undefined); // a failed start rejects `ready`; stop() has nothing to stop then
  return {
    ready: started.then((controlPlane) => fromKubeconfig(controlPlane.kubeconfigPath)),
    stop: async () => {
      starting.abort();
      await (await started.catch(() => undefined))?.stop();
    },
  };
}

function launcherAlive(runDir: string): boolean {
  const pidFile = join(runDir, 'pid');
  if (!existsSync(pidFile)) return true; // being launched
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
}

function launch(runDir: string, kubeconfigPath: string, logPath: string): void {
  requireBinaries();
  const log = openSync(logPath, 'a');
  const child = spawn(process.execPath, [
    '--experimental-transform-types', '--disable-warning=ExperimentalWarning', join(repoRoot, 'test', 'cluster', 'main.ts'),
    '--kubeconfig', kubeconfigPath, '--parent-pid', process.env.BADGATEWAY_CLUSTER_PARENT_PID ?? String(process.ppid),
  ], { cwd: repoRoot, detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  writeFileSync(join(runDir, 'pid'), String(child.pid));
  child.unref();
}

function fromKubeconfig(path: string): Cluster {
  const text = readFileSync(path, 'utf8');
  const config = parse(text) as {
    clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>;
    users: Array<{ user: { token: string } }>;
  };
  const cluster = config.clusters[0]?.cluster;
  const token = config.users[0]?.user.token;
  if (cluster === undefined || token === undefined) throw new Error(`${path}: expected a cluster with certificate-authority-data and a user with a token`);
  return {
    url: cluster.server,
    caPem: Buffer.from(cluster['certificate-authority-data'], 'base64').toString(),
    token,
    kubeconfigPath: path,
    kubeconfigText: text,
  };
}

/** Sends raw JSON as kubectl does (no client-side model serialization). */
export async function clusterRequest(cluster: ApiTarget, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any -- any API object
  const answer = await apiRequest(cluster, method, path, body, 30_000);
  let parsed: unknown = answer.body;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    // not JSON (e.g. /readyz)
  }
  return { status: answer.status, body: parsed };
}

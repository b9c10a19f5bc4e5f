/**
 * The control plane's binaries, built with Go from the pinned modules in this folder (go.mod/go.sum
 * here for kube-apiserver & co. and etcd, kwok/go.mod for kwok) into a git-ignored cache named by
 * the hash of those pins: a changed pin builds a new set, an unchanged one is reused as it is.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const clusterDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(clusterDir, '..', '..');

export interface ClusterBinaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kwok: string;
}

/** The k8s.io/kubernetes version go.mod pins, e.g. v1.35.4. */
function kubernetesVersion(): string {
  const pinned = /^\s*(?:require\s+)?k8s\.io\/kubernetes (v\d+\.\d+\.\d+)/m.exec(readFileSync(join(clusterDir, 'go.mod'), 'utf8'))?.[1];
  if (pinned === undefined) throw new Error(`${join(clusterDir, 'go.mod')}: no k8s.io/kubernetes requirement`);
  return pinned;
}

/**
 * What Kubernetes' own build (hack/lib/version.sh) stamps into its binaries: without it they report
 * v0.0.0-master, and clients that look at /version (the operator's native-sidecar decision, kubectl)
 * would see a cluster that does not exist.
 */
function versionLdflags(version: string): string {
  const [major, minor] = version.slice(1).split('.');
  const stamp = { gitVersion: version, gitMajor: major, gitMinor: minor, gitTreeState: 'clean', buildDate: '1970-01-01T00:00:00Z' };
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version']
    .flatMap((pkg) => Object.entries(stamp).map(([name, value]) => `-X ${pkg}.${name}=${value}`))
    .join(' ');
}

/** What each module builds: output name → package path. */
const builds: Record<string, { module: string; ldflags: () => string; packages: Record<string, string> }> = {
  kubernetes: {
    module: clusterDir,
    ldflags: () => `-s -w ${versionLdflags(kubernetesVersion())}`,
    packages: {
      'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
      'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
      'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
      // etcd's own main package; the version is the one k8s.io/kubernetes itself requires.
      etcd: 'go.etcd.io/etcd/server/v3',
    },
  },
  kwok: { module: join(clusterDir, 'kwok'), ldflags: () => '-s -w', packages: { kwok: 'sigs.k8s.io/kwok/cmd/kwok' } },
};

/** The cache folder for the current pins and build flags. */
export function binariesDir(): string {
  const hash = createHash('sha256');
  for (const build of Object.values(builds)) {
    for (const file of ['go.mod', 'go.sum']) hash.update(readFileSync(join(build.module, file)));
    hash.update(build.ldflags());
  }
  return join(repoRoot, '.tools', 'cluster', hash.digest('hex').slice(0, 16));
}

function pathsIn(directory: string): ClusterBinaries {
  return {
    etcd: join(directory, 'etcd'),
    kubeApiserver: join(directory, 'kube-apiserver'),
    kubeControllerManager: join(directory, 'kube-controller-manager'),
    kubeScheduler: join(directory, 'kube-scheduler'),
    kwok: join(directory, 'kwok'),
  };
}

/** The binaries when they are already built for the current pins, else undefined. */
export function builtBinaries(): ClusterBinaries | undefined {
  const paths = pathsIn(binariesDir());
  return Object.values(paths).every((path) => existsSync(path)) ? paths : undefined;
}

export function goCommand(): string {
  if (process.env.GO !== undefined) return process.env.GO;
  return existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
}

function run(command: string, args: string[], cwd: string, log: (line: string) => void): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const env = { ...process.env, GOFLAGS: `${process.env.GOFLAGS ?? ''} -trimpath -mod=readonly`.trim() };
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
      for (const line of chunk.toString().split('\n')) if (line.startsWith('go: downloading')) log(`  ${line}`);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => reject(new Error(`${command}: ${error.message} (install Go 1.25+: README, "For contributors")`)));
    child.on('close', (code) => code === 0 ? resolvePromise() : reject(new Error(`${command} ${args.join(' ')} failed (${code}):\n${output.slice(-4000)}`)));
  });
}

/**
 * Builds whatever is missing for the current pins (two parallel compiles: `-p 2`), into a private
 * folder first and then renamed, so a concurrent caller never runs half a binary.
 */
export async function ensureBinaries(log: (line: string) => void = () => undefined): Promise<ClusterBinaries> {
  const ready = builtBinaries();
  if (ready !== undefined) return ready;
  const target = binariesDir();
  const staging = `${target}.building-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    for (const [name, build] of Object.entries(builds)) {
      const started = Date.now();
      log(`building ${Object.keys(build.packages).join(', ')} (${name} module; a cold build takes many minutes)…`);
      await run(goCommand(), ['build', '-p', '2', `-ldflags=${build.ldflags()}`, '-o', staging, ...Object.values(build.packages)], build.module, log);
      // `go build` names a main package after its path without the major version suffix: …/server/v3 → server.
      if (existsSync(join(staging, 'server'))) renameSync(join(staging, 'server'), join(staging, 'etcd'));
      log(`built ${name} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
    try {
      renameSync(staging, target);
    } catch (error) {
      if (builtBinaries() === undefined) throw error; // else another process finished the same build first
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  const built = builtBinaries();
  if (built === undefined) throw new Error(`the build left ${target} incomplete`);
  return built;
}

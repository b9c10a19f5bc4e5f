/**
 * `npm run test-apiserver` as a person runs it: a child process on port 0 that prints its URL,
 * writes a kubeconfig that kubectl and client-node use unchanged, and exits 0 on SIGTERM.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKubeClients, loadKubeConfig } from '../../operator/kube/clients.js';
import { repoRoot } from '../support/cli.js';
import { kubectlPath } from '../support/tools.js';

const LISTENING = /^test API server listening on (https:\/\/127\.0\.0\.1:(\d+)), kubeconfig (.+)$/m;

let directory: string;
const children = new Set<ChildProcess>();

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'standalone-apiserver-'));
});
afterEach(() => {
  // npm runs the server as its grandchild: end the whole process group of whatever is left.
  for (const child of children) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  }
  rmSync(directory, { recursive: true, force: true });
});

interface Started { child: ChildProcess; output: () => { stdout: string; stderr: string }; exited: Promise<number | null> }

function start(command: string, args: string[]): Started {
  const child = spawn(command, args, { cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (data) => { stdout += String(data); });
  child.stderr?.on('data', (data) => { stderr += String(data); });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => {
    children.delete(child);
    resolve(code);
  }));
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** The script's own command line from package.json, with the repo's Node 24 (plain `node` may be older). */
function scriptCommand(): [string, string[]] {
  const scripts = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  // `exec` so that npm's forwarded SIGTERM reaches node itself rather than an intermediate shell.
  const [exec, program, ...args] = (scripts['test-apiserver'] as string).split(/\s+/);
  expect([exec, program]).toEqual(['exec', 'node']);
  return [join(repoRoot, 'node_modules', '.bin', 'node'), args];
}

async function waitForListening(started: Started, timeoutMs = 60_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void started.exited.then((code) => { exitCode = code; });
  for (;;) {
    const match = LISTENING.exec(started.output().stdout);
    if (match !== null) return match;
    if (exitCode !== undefined || Date.now() > deadline) throw new Error(`no URL printed (exit ${String(exitCode)}): ${JSON.stringify(started.output())}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function kubectl(kubeconfig: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(kubectlPath(), ['--cache-dir', join(directory, 'cache'), ...args], { env: { PATH: process.env.PATH ?? '', HOME: directory, KUBECONFIG: kubeconfig } }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : Number((error as { code?: number }).code ?? 1), stdout, stderr });
    });
  });
}

function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('connect', () => { socket.destroy(); resolve(false); });
    socket.on('error', () => resolve(true));
  });
}

describe('npm run test-apiserver', () => {
  it('serves kubectl and client-node from the kubeconfig it writes, then exits 0 on SIGTERM', async () => {
    const kubeconfig = join(directory, 'kubeconfig');
    writeFileSync(kubeconfig, 'stale', { mode: 0o644 }); // overwritten, and made private: it holds the token
    const server = start('npm', ['run', '--silent', 'test-apiserver', '--', '--port', '0', '--kubeconfig', kubeconfig, '--gitVersion', 'v1.27.3']);
    const [, url, port, printedPath] = await waitForListening(server) as unknown as [string, string, string, string];
    expect(printedPath).toBe(kubeconfig);
    expect(statSync(kubeconfig).mode & 0o777).toBe(0o600);
    expect(readFileSync(kubeconfig, 'utf8')).toContain(`server: ${url}`);

    // `create -f`, as a person with a manifest does (`create configmap` is protobuf: test/apiserver/protobuf.test.ts).
    writeFileSync(join(directory, 'cm.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'by-hand' }, data: { a: '1' } }));
    const created = await kubectl(kubeconfig, ['create', '-f', join(directory, 'cm.json')]);
    expect(created).toMatchObject({ code: 0, stdout: 'configmap/by-hand created\n' });
    const clients = createKubeClients(loadKubeConfig(kubeconfig));
    expect((await clients.version.getCode()).gitVersion).toBe('v1.27.3');
    expect((await clients.core.readNamespacedConfigMap({ name: 'by-hand', namespace: 'default' })).data).toEqual({ a: '1' });
    expect((await kubectl(kubeconfig, ['get', 'cm', 'by-hand', '-o', 'jsonpath={.data.a}'])).stdout).toBe('1');

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(await portRefuses(Number(port))).toBe(true);
  });

  it('refuses bad flags with one line on stderr and exit code 2', async () => {
    const [node, args] = scriptCommand();
    for (const flags of [['--port', 'abc', '--kubeconfig', join(directory, 'k')], ['--port', '0'], ['--kubeconfig', join(directory, 'k'), '--colour'], ['--kubeconfig', join(directory, 'k'), '--gitVersion', '1.30'], ['--kubeconfig', join(directory, 'k'), '--route-service', 'shop/web:9443'], ['--kubeconfig', join(directory, 'k'), '--route-service', 'shop/web=70000']]) {
      const run = start(node, [...args, ...flags]);
      expect(await run.exited).toBe(2);
      const { stdout, stderr } = run.output();
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(/^test-apiserver: .*usage: test-apiserver --kubeconfig FILE/);
    }
  });

  it('fails with one line on stderr and exit code 1 when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const [node, args] = scriptCommand();
      const run = start(node, [...args, '--port', String((taken.address() as AddressInfo).port), '--kubeconfig', join(directory, 'k')]);
      expect(await run.exited).toBe(1);
      expect(run.output().stderr).toMatch(/^test-apiserver: cannot listen on port \d+ .*EADDRINUSE.*\n$/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

/**
 * `npm run cluster -- --kubeconfig FILE` exactly as the README tells contributors to type it: the
 * kubeconfig appears once the cluster is ready, kubectl sees kwok's nodes Ready, SIGTERM stops every
 * process and removes the data and FILE — also when it comes while the cluster is still starting —
 * and a second run starts clean. Whatever a run's test did, the run's cluster is stopped after it.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { eventually, repoRoot } from '../support/cli.js';
import { startToolRunner } from '../support/client-session.js';

const README = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const workDir = mkdtempSync(join(tmpdir(), 'cluster-launcher-'));

interface Run { child: ChildProcess; output: () => string; exited: Promise<number | null>; exitCode: () => number | null | undefined }
const runs: Run[] = [];

const dataDirOf = (run: Run): string | undefined => /data and logs in (\S+)/.exec(run.output())?.[1];

/** The processes whose command line names `directory` (etcd's --data-dir, kube-apiserver's --cert-dir, …). */
function processesUsing(directory: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'latin1').includes(directory)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

// A run whose test failed half-way is still running: stop it as a user would (SIGTERM, which npm
// hands on to the launcher), then kill whatever of its cluster outlived that, so no etcd or
// kube-apiserver of this suite stays behind.
afterAll(async () => {
  const stillRunning = runs.filter((run) => run.exitCode() === undefined);
  for (const run of stillRunning) run.child.kill('SIGTERM');
  await Promise.all(stillRunning.map((run) => Promise.race([run.exited, delay(60_000)])));
  for (const run of runs) {
    if (run.exitCode() === undefined) run.child.kill('SIGKILL');
    const dataDir = dataDirOf(run);
    if (dataDir === undefined) continue;
    for (const pid of processesUsing(dataDir)) process.kill(pid, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
  rmSync(workDir, { recursive: true, force: true });
}, 120_000);

function launch(args: string[]): Run {
  const child = spawn('npm', ['run', 'cluster', '--', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let code: number | null | undefined;
  child.stdout?.on('data', (data) => { output += String(data); });
  child.stderr?.on('data', (data) => { output += String(data); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (exitCode) => {
    code = exitCode;
    resolve(exitCode);
  }));
  const run = { child, output: () => output, exited, exitCode: () => code };
  runs.push(run);
  return run;
}

async function runOnce(kubeconfig: string): Promise<void> {
  // The README's line, with the kubeconfig moved into this test's folder.
  const line = /^npm run cluster -- --kubeconfig (\S+)/m.exec(README);
  if (line === null) throw new Error('README: no `npm run cluster -- --kubeconfig FILE` line');
  const run = launch(['--kubeconfig', kubeconfig]);
  // The launcher writes the kubeconfig, then says it is ready: wait for the line, not the file.
  await eventually(() => existsSync(kubeconfig) && /cluster: ready in/.test(run.output()), 170_000, () => `the kubeconfig and "ready" (${run.output().slice(-2000)})`);
  expect(run.output()).toMatch(/cluster: starting etcd…[\s\S]*cluster: ready in [\d.]+ s/);
  const dataDir = dataDirOf(run);
  expect(dataDir !== undefined && existsSync(dataDir)).toBe(true);
  const tools = startToolRunner(kubeconfig);
  try {
    const nodes = await tools.kubectlOk(['get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}']);
    expect(nodes.trim().split(' ').sort()).toEqual(['kwok-node-0=True', 'kwok-node-1=True']);
    // A second run starts clean: nothing of the first run's objects.
    expect(await tools.kubectlOk(['get', 'configmaps', '-n', 'default', '-l', 'launcher-test', '-o', 'name'])).toBe('');
    await tools.kubectlOk(['create', 'configmap', 'left-behind', '-n', 'default']);
    await tools.kubectlOk(['label', 'configmap', 'left-behind', '-n', 'default', 'launcher-test=yes']);
  } finally {
    await tools.close();
  }
  run.child.kill('SIGTERM');
  expect(await run.exited).toBe(0);
  expect(run.output()).toMatch(/stopped, data removed/);
  expect(existsSync(dataDir as string)).toBe(false);
  expect(processesUsing(dataDir as string)).toEqual([]);
  expect(existsSync(kubeconfig)).toBe(false);
}

describe('npm run cluster', () => {
  it('starts a ready cluster, stops it all on SIGTERM, removing its data, and starts clean again', async () => {
    const kubeconfig = join(workDir, 'kubeconfig');
    await runOnce(kubeconfig);
    await runOnce(kubeconfig);
  }, 400_000);

  it('stops what it has started when SIGTERM comes while the control plane is still starting', async () => {
    const kubeconfig = join(workDir, 'starting-kubeconfig');
    const run = launch(['--kubeconfig', kubeconfig]);
    // Signalled as soon as the line comes: kube-apiserver is spawned right after it.
    await new Promise<void>((resolve, reject) => {
      const started = (): void => {
        if (!/cluster: starting kube-apiserver…/.test(run.output())) return;
        run.child.stdout?.off('data', started);
        resolve();
      };
      run.child.stdout?.on('data', started);
      void run.exited.then(() => reject(new Error(`the launcher exited before starting kube-apiserver:\n${run.output()}`)));
    });
    const dataDir = dataDirOf(run) as string;
    await eventually(() => processesUsing(dataDir).length >= 2, 30_000, 'etcd and kube-apiserver running');
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.output()).not.toMatch(/cluster: ready in/); // kube-apiserver takes seconds to answer /readyz
    expect(run.output()).toMatch(/cluster: stopping…\ncluster: stopped, data removed\n/);
    expect(processesUsing(dataDir)).toEqual([]);
    expect(existsSync(dataDir)).toBe(false);
    expect(existsSync(kubeconfig)).toBe(false);
  }, 120_000);

  it('refuses a run without --kubeconfig with one line naming the flag, exit code 2', async () => {
    const run = launch([]);
    expect(await run.exited).toBe(2);
    expect(run.output()).toMatch(/cluster: --kubeconfig/);
  }, 30_000);
});

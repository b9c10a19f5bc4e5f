/**
 * `npm run cluster -- --kubeconfig FILE` exactly as the README tells contributors to type it: the
 * kubeconfig appears once the cluster is ready, kubectl sees kwok's nodes Ready, SIGTERM stops every
 * process and removes the data and FILE, and a second run starts clean.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, repoRoot } from '../support/cli.js';
import { startToolRunner } from '../support/client-session.js';

const README = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const workDir = mkdtempSync(join(tmpdir(), 'cluster-launcher-'));
const running: ChildProcess[] = [];

afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
  rmSync(workDir, { recursive: true, force: true });
});

interface Run { child: ChildProcess; output: () => string; exited: Promise<number | null> }

function launch(args: string[]): Run {
  const child = spawn('npm', ['run', 'cluster', '--', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let output = '';
  child.stdout?.on('data', (data) => { output += String(data); });
  child.stderr?.on('data', (data) => { output += String(data); });
  return { child, output: () => output, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

async function runOnce(kubeconfig: string): Promise<void> {
  // The README's line, with the kubeconfig moved into this test's folder.
  const line = /^npm run cluster -- --kubeconfig (\S+)/m.exec(README);
  if (line === null) throw new Error('README: no `npm run cluster -- --kubeconfig FILE` line');
  const run = launch(['--kubeconfig', kubeconfig]);
  // The launcher writes the kubeconfig, then says it is ready: wait for the line, not the file.
  await eventually(() => existsSync(kubeconfig) && /cluster: ready in/.test(run.output()), 170_000, () => `the kubeconfig and "ready" (${run.output().slice(-2000)})`);
  expect(run.output()).toMatch(/cluster: starting etcd…[\s\S]*cluster: ready in [\d.]+ s/);
  const dataDir = /data and logs in (\S+)/.exec(run.output())?.[1];
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
  expect(existsSync(kubeconfig)).toBe(false);
}

describe('npm run cluster', () => {
  it('starts a ready cluster, stops it all on SIGTERM, removing its data, and starts clean again', async () => {
    const kubeconfig = join(workDir, 'kubeconfig');
    await runOnce(kubeconfig);
    await runOnce(kubeconfig);
  }, 400_000);

  it('refuses a run without --kubeconfig with one line naming the flag, exit code 2', async () => {
    const run = launch([]);
    expect(await run.exited).toBe(2);
    expect(run.output()).toMatch(/cluster: --kubeconfig/);
  }, 30_000);
});

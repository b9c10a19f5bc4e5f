/** What every user sees first: the Node.js check, --version, and commander's own errors in our words. */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nodeVersionProblem, REQUIRED_NODE_MAJOR } from '../../cli/node-version.js';
import { VERSION } from '../../cli/version.js';
import { cliEntry, repoRoot, runCli } from '../support/cli.js';

/** An older Node.js on this machine (the system's), if there is one. */
const OLD_NODE = ['/usr/bin/node', '/usr/local/bin/node'].find((path) => existsSync(path) && path !== process.execPath);

function runWith(node: string, args: string[], script = cliEntry): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data) => { stdout += String(data); });
    child.stderr.on('data', (data) => { stderr += String(data); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('badgateway start-up', () => {
  it('names the Node.js it needs and how to get it, in one line', () => {
    expect(nodeVersionProblem(`${REQUIRED_NODE_MAJOR}.0.0`)).toBeUndefined();
    expect(nodeVersionProblem(`${REQUIRED_NODE_MAJOR + 1}.2.3`)).toBeUndefined();
    const problem = nodeVersionProblem('20.20.2') ?? '';
    expect(problem).toContain(`needs Node.js ${REQUIRED_NODE_MAJOR} or newer, this is 20.20.2`);
    expect(problem).toContain('npx badgateway');
    expect(problem).not.toContain('\n');
    expect(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).engines.node).toBe(`>=${REQUIRED_NODE_MAJOR}`);
  });

  it('refuses an old Node.js before loading anything that needs a newer one', async () => {
    if (OLD_NODE === undefined) {
      process.stdout.write('skipped: no Node.js other than the test runner\'s on this machine\n');
      return;
    }
    const major = Number((await runWith(OLD_NODE, [], '--version')).stdout.trim().replace(/^v/, '').split('.')[0]);
    if (!(major < REQUIRED_NODE_MAJOR)) {
      process.stdout.write(`skipped: ${OLD_NODE} is Node.js ${major}, not older\n`);
      return;
    }
    for (const args of [['operator', '--no-webhook'], ['sidecar', '--upstream', 'http://127.0.0.1:1'], ['--version']]) {
      const result = await runWith(OLD_NODE, args);
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(new RegExp(`^badgateway: needs Node.js ${REQUIRED_NODE_MAJOR} or newer`));
    }
  });

  it('prints its version, the same as package.json and the chart', async () => {
    for (const flag of ['--version', '-v']) {
      const result = await runCli([flag]);
      expect(result).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    }
    expect(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version).toBe(VERSION);
    expect(readFileSync(join(repoRoot, 'charts', 'badgateway', 'Chart.yaml'), 'utf8')).toContain(`appVersion: "${VERSION}"`);
  });

  it.each([
    [['nonsense'], /^badgateway: unknown command 'nonsense'/],
    [['operator', '--bogus'], /^badgateway: unknown option '--bogus'/],
    [['operator', '--cert-mode', 'none'], /^badgateway: option '--cert-mode <mode>' argument 'none' is invalid/],
    [['inject', '--filename'], /^badgateway: option '-f, --filename <file>' argument missing/],
  ])('reports commander\'s own error for %j like ours: one line, exit 2', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
  });
});

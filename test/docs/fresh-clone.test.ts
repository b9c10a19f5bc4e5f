/**
 * The README's first two commands on a fresh clone, in a user's shell (the machine's own Node
 * first on the PATH): `npm install` leaves the checkout as it was and says nothing but what
 * matters, and `npx badgateway --version` prints the version alone.
 */
import { describe, expect, it } from '@jest/globals';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/cli.js';
import { runInUserShell } from '../support/user-shell.js';

const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

describe('a fresh clone, in a user\'s shell', () => {
  it('npm install keeps package-lock.json byte for byte and prints no warnings', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'fresh-clone-'));
    try {
      for (const file of ['package.json', 'package-lock.json', '.npmrc'].filter((name) => existsSync(join(repoRoot, name)))) copyFileSync(join(repoRoot, file), join(folder, file));
      // What `npm install` does to the lockfile, without the download: npm resolves the tree from the lockfile and rewrites it.
      const result = await runInUserShell('npm install --package-lock-only --ignore-scripts --offline --no-audit --no-fund', { cwd: folder, timeoutMs: 120_000 });
      expect({ code: result.code, warnings: result.stderr.split('\n').filter((line) => /warn|ERR/i.test(line)) }).toEqual({ code: 0, warnings: [] });
      expect(readFileSync(join(folder, 'package-lock.json'), 'utf8')).toBe(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8'));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 150_000);

  it('npx badgateway --version prints the version and nothing else', async () => {
    const result = await runInUserShell('npx badgateway --version', { cwd: repoRoot, timeoutMs: 120_000 });
    expect(result).toEqual({ code: 0, stdout: `${packageJson.version}\n`, stderr: '' });
  }, 150_000);
});

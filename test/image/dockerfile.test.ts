import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { repoRoot } from '../support/cli.js';

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const stages = dockerfile.split(/^FROM /m).slice(1);
const final = stages.at(-1) as string;

/** `COPY [--from=x] a b dest` → sources; sources from earlier stages map to repository paths. */
function copies(stage: string): { from?: string; sources: string[]; destination: string }[] {
  return [...stage.matchAll(/^COPY\s+(?:--from=(\S+)\s+)?(.+)$/gm)].map((match) => {
    const parts = (match[2] as string).trim().split(/\s+/);
    return { ...(match[1] === undefined ? {} : { from: match[1] }), sources: parts.slice(0, -1), destination: parts.at(-1) as string };
  });
}

describe('Dockerfile (checked without a Docker engine)', () => {
  it('is multi-stage, on Node 24 slim, with a numeric non-root user and the CLI as entrypoint', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.every((stage) => stage.startsWith('node:24-bookworm-slim'))).toBe(true);
    expect(final).toMatch(/^USER 65532:65532$/m);
    expect(final).toMatch(/^ENTRYPOINT \["node", "dist\/cli\/main\.js"\]$/m);
    expect(dockerfile.indexOf('COPY package.json package-lock.json')).toBeLessThan(dockerfile.indexOf('COPY api'));
  });

  it('copies only files that exist after npm run build', () => {
    for (const stage of stages) {
      for (const copy of copies(stage)) {
        for (const source of copy.sources) {
          const path = copy.from === undefined ? source : source.replace(/^\/src\//, '').replace(/^\/app\/node_modules$/, 'node_modules');
          expect({ source, exists: existsSync(join(repoRoot, path)) }).toEqual({ source, exists: true });
        }
      }
    }
  });

  it('runs --help and the compile-cache warm-up from exactly the shipped files, production dependencies only', () => {
    const app = mkdtempSync(join(tmpdir(), 'image-'));
    try {
      for (const file of ['package.json', 'package-lock.json']) cpSync(join(repoRoot, file), join(app, file));
      const install = spawnSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: app, encoding: 'utf8', timeout: 240_000 });
      expect({ status: install.status, stderr: install.status === 0 ? '' : install.stderr }).toEqual({ status: 0, stderr: '' });
      expect(existsSync(join(app, 'node_modules', 'node'))).toBe(false);
      expect(existsSync(join(app, 'node_modules', 'jest'))).toBe(false);
      cpSync(join(repoRoot, 'dist'), join(app, 'dist'), { recursive: true });
      const help = spawnSync(process.execPath, ['dist/cli/main.js', '--help'], { cwd: app, encoding: 'utf8' });
      expect(help.status).toBe(0);
      for (const command of ['sidecar', 'operator', 'inject', 'crd', 'demo']) expect(help.stdout).toContain(command);
      const crd = spawnSync(process.execPath, ['dist/cli/main.js', 'crd'], { cwd: app, encoding: 'utf8' });
      expect(crd.stdout).toContain('kind: CustomResourceDefinition');
      const sidecar = spawnSync(process.execPath, ['dist/cli/main.js', 'sidecar', '--upstream', 'ftp://x'], { cwd: app, encoding: 'utf8' });
      expect(sidecar.status).toBe(2);

      // The final stage's own files from the build context (the compile-cache warm-up and what it
      // imports), copied where the Dockerfile puts them, then run as the image's RUN step does.
      for (const copy of copies(final).filter(({ from }) => from === undefined)) {
        for (const source of copy.sources) cpSync(join(repoRoot, source), copy.destination.endsWith('/') ? join(app, copy.destination, basename(source)) : join(app, copy.destination));
      }
      const warm = /^RUN node (tools\/\S+\.ts) (\S+)$/m.exec(final);
      expect(warm).not.toBeNull();
      const [, script, cacheDirectory] = warm as RegExpExecArray;
      const warmUp = spawnSync(process.execPath, [script as string, join(app, basename(cacheDirectory as string))], { cwd: app, encoding: 'utf8', timeout: 60_000 });
      expect({ status: warmUp.status, stderr: warmUp.stderr }).toEqual({ status: 0, stderr: '' });
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  }, 300_000);
});

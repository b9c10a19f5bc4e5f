/**
 * A folder where `npm run demo` runs package.json's `demo` script without its build step: the
 * suite has built dist/, and rebuilding it would race the other test files.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

export const BUILD_STEP = 'npm run build && ';
export const demoScript = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.demo ?? '';

/** Creates the folder; the returned function removes it. */
export function npmDemoFolder(): { folder: string; remove: () => void } {
  const folder = mkdtempSync(join(tmpdir(), 'demo-npm-'));
  symlinkSync(join(repoRoot, 'dist'), join(folder, 'dist'));
  symlinkSync(join(repoRoot, 'node_modules'), join(folder, 'node_modules'));
  writeFileSync(join(folder, 'package.json'), JSON.stringify({ name: 'demo-npm', private: true, scripts: { demo: demoScript.slice(BUILD_STEP.length) } }));
  return { folder, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/** Kills each spawned process group (detached children) that is still running. */
export function killGroups(groups: number[]): void {
  for (const group of groups.splice(0)) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * CONTRIBUTING.md and ARCHITECTURE.md name scripts, flags and files: each must exist, so the pages
 * cannot drift from the repository (the commands themselves are run by the suites they name).
 */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/cli.js';

const read = (file: string): string => readFileSync(join(repoRoot, file), 'utf8');
const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
const pages = ['CONTRIBUTING.md', 'ARCHITECTURE.md'];

describe.each(pages)('%s', (page) => {
  const text = read(page);

  it('names only npm scripts that exist', () => {
    const named = [...text.matchAll(/npm run ([\w:-]+)/g)].map((match) => match[1] as string);
    expect(named.filter((script) => !scripts.includes(script))).toEqual([]);
  });

  it('names only bench flags that bench/run.ts reads', () => {
    const run = read(join('bench', 'run.ts'));
    const flags = [...text.matchAll(/node bench\/run\.ts((?: --[\w-]+(?: \S+)?)*)/g)].flatMap((match) => [...(match[1] as string).matchAll(/--[\w-]+/g)].map((flag) => flag[0]));
    expect(flags.filter((flag) => !run.includes(`'${flag}'`))).toEqual([]);
  });

  it('names only repository paths that exist', () => {
    const paths = [...text.matchAll(/`((?:api|sidecar|operator|cli|test|bench|docs|charts)\/[\w./-]*)`/g)].map((match) => match[1] as string)
      .map((path) => path.replace(/\*.*$/, ''));
    expect(paths.filter((path) => !existsSync(join(repoRoot, path)))).toEqual([]);
  });
});

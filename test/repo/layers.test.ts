/**
 * The shape ARCHITECTURE.md and CONTRIBUTING.md state, checked: which folders import which, no
 * import circles (type imports count: they are what makes a circle hard to change), and the test
 * layout rule.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { repoRoot } from '../support/cli.js';

const PRODUCT = ['api', 'sidecar', 'operator', 'cli'];

function filesUnder(folder: string, suffix: string): string[] {
  return readdirSync(join(repoRoot, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith(suffix))
    .map((name) => join(folder, name));
}

/** Relative module imports (static, dynamic, re-exports) of `file`, as repository paths of .ts files. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(repoRoot, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)].map((match) => match[1] as string);
  return specifiers.map((specifier) => normalize(join(dirname(file), specifier)).replace(/\.js$/, '.ts'));
}

const graph = new Map(PRODUCT.flatMap((folder) => filesUnder(folder, '.ts')).map((file) => [file, importsOf(file)]));
const top = (file: string): string => file.split('/')[0] as string;

/** Every set of modules that import each other in a circle (Tarjan's strongly connected components). */
function circles(): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file) as number);
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file) as number, low.get(next) as number));
      } else if (stack.includes(next)) {
        low.set(file, Math.min(low.get(file) as number, index.get(next) as number));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const circle: string[] = [];
    for (let member = stack.pop(); member !== undefined; member = member === file ? undefined : stack.pop()) circle.push(member);
    if (circle.length > 1) found.push(circle.sort());
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

describe('layers', () => {
  it('api/ imports nothing of ours; sidecar/ and operator/ never import each other', () => {
    const crossings = [...graph].flatMap(([file, imports]) => imports
      .filter((target) => PRODUCT.includes(top(target)))
      .filter((target) => (top(file) === 'api' && top(target) !== 'api')
        || (top(file) === 'sidecar' && top(target) === 'operator')
        || (top(file) === 'operator' && top(target) === 'sidecar'))
      .map((target) => `${file} -> ${target}`));
    expect(crossings).toEqual([]);
  });

  it('no module imports one that imports it back, directly or around a circle', () => {
    expect(circles()).toEqual([]);
  });
});

/** Folders of suites that test a whole part rather than one source folder (CONTRIBUTING.md names each). */
const SUITES = ['test/apiserver', 'test/cluster', 'test/e2e', 'test/image', 'test/reliability', 'test/repo', 'test/sidecar/conformance', 'test/sidecar/runtime'];

describe('test layout', () => {
  it('every test file lives in the folder mirroring a source folder, or in a named suite folder', () => {
    const misplaced = filesUnder('test', '.test.ts').filter((file) => {
      const folder = dirname(file);
      if (SUITES.includes(folder)) return false;
      const mirrored = relative('test', folder);
      return !statSync(join(repoRoot, mirrored), { throwIfNoEntry: false })?.isDirectory();
    });
    expect(misplaced).toEqual([]);
  });

  it('CONTRIBUTING.md names every suite folder', () => {
    const contributing = readFileSync(join(repoRoot, 'CONTRIBUTING.md'), 'utf8');
    for (const suite of SUITES) expect({ suite, named: contributing.includes(`\`${suite}/\``) }).toEqual({ suite, named: true });
  });
});

/** The README and docs link only to files inside the repository, and every such file exists. */
import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { repoRoot } from '../support/cli.js';

const documents = [
  'README.md',
  'ARCHITECTURE.md',
  'CONTRIBUTING.md',
  join('charts', 'badgateway', 'README.md'),
  ...readdirSync(join(repoRoot, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join('docs', name)),
];

/** Relative targets of markdown links `[text](target)`, anchors dropped. */
function relativeLinks(text: string): string[] {
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => (match[1] ?? '').split('#')[0] ?? '')
    .filter((target) => target !== '' && !/^[a-z]+:/.test(target));
}

describe('documentation links', () => {
  it.each(documents)('%s links only to existing files of the repository', (document) => {
    const text = readFileSync(join(repoRoot, document), 'utf8');
    for (const target of relativeLinks(text)) {
      const path = resolve(repoRoot, dirname(document), target);
      expect({ target, inside: !relative(repoRoot, path).startsWith('..') }).toEqual({ target, inside: true });
      expect({ target, exists: existsSync(path) }).toEqual({ target, exists: true });
    }
    expect(text).not.toContain('../shared/');
  });

  it('the README leads to the install guide', () => {
    expect(relativeLinks(readFileSync(join(repoRoot, 'README.md'), 'utf8'))).toContain('docs/install.md');
  });
});

describe('docs/operator.md', () => {
  it('lists every condition reason the controller writes, in its condition table', async () => {
    const { CONDITION_REASONS } = await import('../../operator/controller/reasons.js');
    const rows = readFileSync(join(repoRoot, 'docs', 'operator.md'), 'utf8').split('\n').filter((line) => /^\s*\| `(Accepted|Ready|Conflicted|Degraded)` \|/.test(line));
    for (const [type, byStatus] of Object.entries(CONDITION_REASONS)) {
      for (const [status, reasons] of Object.entries(byStatus)) {
        for (const reason of reasons as readonly string[]) {
          const row = rows.find((line) => line.includes(`| \`${type}\` | ${status === 'true' ? 'True' : 'False'} |`) && line.includes(`\`${reason}\``));
          expect({ type, status, reason, documented: row !== undefined }).toEqual({ type, status, reason, documented: true });
        }
      }
    }
  });
});

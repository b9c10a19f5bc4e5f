import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROXY_ERROR_TYPES, REASONS } from '../../sidecar/core/failures.js';
import { repoRoot } from '../support/cli.js';

const doc = readFileSync(join(repoRoot, 'docs', 'errors.md'), 'utf8');

describe('docs/errors.md', () => {
  it.each(REASONS)('documents the reason %s', (reason) => {
    expect(doc).toContain(`\`${reason}\``);
  });

  it.each(PROXY_ERROR_TYPES)('documents the Proxy-Status error %s', (type) => {
    expect(doc).toContain(`\`${type}\``);
  });
});

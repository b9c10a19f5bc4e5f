import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/cli.js';
import { goTool } from '../support/go-tools.js';

const missing = ['nginx', 'haproxy', 'h2load'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
if (missing.length > 0) process.stderr.write(`HTTP/2 bench smoke SKIPPED: ${missing.join(', ')} not installed (apt-get update && apt-get install -y nginx-light haproxy nghttp2-client)\n`);
const interop = missing.length === 0 ? goTool('interop-server', 'HTTP/2 bench smoke') : undefined;
const describeIfTools = interop !== undefined ? describe : describe.skip;

describeIfTools('HTTP/2 bench smoke run (npm run bench:http2 -- --smoke; checks the harness, never speed)', () => {
  it('measures h2c and gRPC through the sidecar, nginx, HAProxy and the node:http2 floor, and the sidecar\'s memory', () => {
    const directory = mkdtempSync(join(tmpdir(), 'bench-h2-smoke-'));
    const out = join(directory, 'RESULTS-http2.md');
    const result = spawnSync(process.execPath, [join(repoRoot, 'bench', 'http2.ts'), '--smoke', '--out', out], { encoding: 'utf8', timeout: 300_000 });
    expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
    const text = readFileSync(out, 'utf8');
    for (const section of ['### h2c, GET 1 KiB', '### gRPC unary (EmptyCall)', '### Sidecar memory (h2c)']) expect(text).toContain(section);
    // Every row served its requests (a proxy that answered nothing or failed them would show here), with its CPU time per request.
    for (const target of ['direct', 'nginx', 'haproxy', 'floor', 'sidecar']) expect(text.match(new RegExp(`^\\| ${target} \\| [1-9]\\d* \\| [\\d.]+ \\| [\\d.]+ \\| \\d+ \\| 0 of [1-9]\\d* \\|`, 'gm'))).toHaveLength(2);
    expect(text).toMatch(/Sidecar ÷ HAProxy: [\d.]+× req\/s/);
    expect(text).toMatch(/Sidecar ÷ floor: [\d.]+× req\/s, [\d.]+× p99, [\d.]+× CPU per request/);
    rmSync(directory, { recursive: true, force: true });
  }, 360_000);
});

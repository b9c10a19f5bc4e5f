import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../support/cli.js';

const missing = ['nginx', 'haproxy', 'wrk', 'h2load'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
if (missing.length > 0) {
  // stderr, not console.log: jest drops console output of suites whose tests were all skipped.
  process.stderr.write(`bench smoke SKIPPED: ${missing.join(', ')} not installed (apt-get update && apt-get install -y nginx-light haproxy wrk nghttp2-client)\n`);
}
/**
 * nginx workers whose master is gone: what a bench that kills nginx's master leaves running.
 * Workers of other nginx instances on the machine (another bench, a developer's nginx) have a
 * live master as their parent and are not counted.
 */
function orphanedNginxWorkers(): number {
  const rows = spawnSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).stdout.split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line)).filter((match) => match !== null)
    .map((match) => ({ pid: match[1] as string, ppid: match[2] as string, args: match[3] as string }));
  const masters = new Set(rows.filter((row) => row.args.startsWith('nginx: master process')).map((row) => row.pid));
  return rows.filter((row) => row.args.startsWith('nginx: worker process') && !masters.has(row.ppid)).length;
}
const describeIfTools = missing.length === 0 ? describe : describe.skip;

describeIfTools('bench smoke run (checks the harness, never speed)', () => {
  it('measures every scenario against nginx and HAProxy, writes the results and leaves no process behind', async () => {
    const orphansBefore = orphanedNginxWorkers();
    const directory = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
    const out = join(directory, 'RESULTS.md');
    const result = spawnSync(process.execPath, [join(repoRoot, 'bench', 'run.ts'), '--smoke', '--out', out], { encoding: 'utf8', timeout: 300_000 });
    expect({ status: result.status, stderr: result.status === 0 ? '' : result.stderr }).toEqual({ status: 0, stderr: '' });
    const text = readFileSync(out, 'utf8');
    // The saved figures render the same page again (bench/render.ts).
    const rendered = join(directory, 'again.md');
    const render = spawnSync(process.execPath, [join(repoRoot, 'bench', 'render.ts'), join(directory, 'RESULTS.json'), rendered], { encoding: 'utf8' });
    expect({ status: render.status, stderr: render.stderr }).toEqual({ status: 0, stderr: '' });
    expect(readFileSync(rendered, 'utf8')).toBe(text);
    rmSync(directory, { recursive: true, force: true });
    for (const heading of ['## Healthy proxying', '## Fast failure', '## Fast failure, one connection', '## Black-holed upstream', '## Sidecar footprint']) expect(text).toContain(heading);
    for (const target of ['| direct |', '| nginx |', '| haproxy |', '| sidecar |', 'sidecar (circuit open)', 'node:http static 502', "node:http, the sidecar's 502 bytes"]) expect(text).toContain(target);
    expect(text).toMatch(/vs a bare node:http server sending the sidecar's own 502 \(the same headers and page\): \*\*\d+\.\d\d×\*\*/);
    expect(text).toMatch(/\| 64 \| 1k \| \d+\.\d\d× \|/);
    // Node's own proxying ceiling beside the sidecar (its ratio to nginx and the sidecar's to it), and CPU per request.
    expect(text).toMatch(/\| 64 \| 100k \|( \d+\.\d\d× \|){7}$/m);
    expect(text).toMatch(/\| 64 \| 1k \| sidecar \| \d+ \| [\d.]+ \| [\d.]+ \| \d+ \|/);
    // Node's floor (a net pipe, and one framed by llhttp) beside the sidecar: ratios, added latency, allocation.
    expect(text).toMatch(/\| 512 \| 100k \|( \d+\.\d\d× \|){6}$/m);
    for (const floor of ['Node floor (net pipe)', 'Node floor (net pipe + llhttp)']) expect(text).toMatch(new RegExp(`^\\| ${floor.replace(/[()+]/g, '\\$&')} \\| \\d+ \\| \\d+\\.\\d \\| \\d+ \\|`, 'm'));
    expect(text).toMatch(/Node's floor at 200 req\/s adds p99 \*\*-?[\d.]+ ms\*\* as a net pipe/);
    // Added latency at a fixed rate, through each proxy minus direct.
    expect(text).toContain('## Added latency at a fixed request rate');
    expect(text).toMatch(/## Per proxied request, inside the sidecar[\s\S]*\| \d+ \| \d+\.\d \| \d+ \| \d+\.\d \| \d+ \|/);
    // ...with the CPU each request cost the proxy's process at that rate.
    for (const target of ['nginx', 'Node floor \\(net pipe\\)', 'sidecar']) expect(text).toMatch(new RegExp(`^\\| \\d+ \\| ${target} \\| [\\d.]+ \\| [\\d.]+ \\| -?[\\d.]+ \\| -?[\\d.]+ \\| \\d+ \\| \\d+ \\| 0 \\|$`, 'm'));
    // Healthy rows measure real 200s: every one ends with "| <socket errors> | 0 |" (no non-2xx).
    const healthyRows = text.split('## Fast failure')[0]!.split('\n').filter((line) => /^\| (64|512) \| (1k|100k) \| (direct|nginx|haproxy|node:http \+ undici|Node floor \(net pipe\)|Node floor \(net pipe \+ llhttp\)|sidecar) \|/.test(line));
    expect(healthyRows).toHaveLength(28);
    for (const row of healthyRows) expect(row).toMatch(/\| \d+ \| 0 \|$/);
    expect(text).toMatch(/Open circuit, one connection: p99 \*\*\d+\.\d{3} ms\*\*/);
    expect(text).toMatch(/\| of which private \(RssAnon.*\| \d+\.\d MiB \|/);
    // RSS under 512 connections, the sidecar's and Node's floor's under the same load.
    expect(text).toMatch(/^\| RSS under 512 connections \| \d+\.\d MiB \|$/m);
    expect(text).toMatch(/^\| for scale: Node's floor \(net pipe\) under the same 512 connections \| \d+\.\d MiB \|$/m);
    // The overload scenario: every target at 4x in the smoke run, and the verdict lines.
    expect(text).toContain('## Overload');
    for (const target of ['direct', 'sidecar, overload enforce (adaptive, default queue)', 'sidecar, overload off', 'nginx']) expect(text).toContain(`| 4× | ${target} |`);
    expect(text).toMatch(/\| 4× \| haproxy \(maxconn 8, maxqueue 100, timeout queue 250ms\) \| \d+ \|/);
    expect(text).toMatch(/goodput \*\*\d+ %\*\* of capacity/);
    // nginx's master stops its workers after it exits; give them a moment.
    for (let waited = 0; waited < 5_000 && orphanedNginxWorkers() > orphansBefore; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(orphanedNginxWorkers()).toBe(orphansBefore);
  }, 360_000);
});

/**
 * Under an old-space cap like the injected one (64 MiB), V8's default growth factor schedules a
 * full mark-compact every few MiB of promotions; a proxy streaming large bodies promotes its
 * in-flight buffers quickly, and spent half its CPU in those collections. The sidecar relaxes the
 * factor unless the node command line set one. Counted here in fresh Node processes running the
 * same promoting workload, so the numbers depend on V8's heuristics only, not on this machine.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { request } from 'undici';
import { closedPort } from '../../support/faulty-upstream.js';
import { eventually, repoRoot, startCli } from '../../support/cli.js';

const growthModule = pathToFileURL(join(repoRoot, 'dist', 'sidecar', 'old-generation-growth.js')).href;

/** Objects that live long enough to be promoted and then die, as a proxy's in-flight requests do. */
const WORKLOAD = `
import { PerformanceObserver, constants } from 'node:perf_hooks';
const { relaxOldGenerationGrowth } = await import(${JSON.stringify(growthModule)});
const relaxed = relaxOldGenerationGrowth();
let majors = 0;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors += 1;
});
observer.observe({ entryTypes: ['gc'] });
const inFlight = new Array(512);
let scratch;
for (let index = 0; index < 40000; index += 1) {
  inFlight[index % inFlight.length] = new Array(2048).fill(index);
  for (let young = 0; young < 20; young += 1) scratch = [young, index];
}
await new Promise((resolve) => setTimeout(resolve, 50));
observer.disconnect();
console.log(JSON.stringify({ relaxed, majors, scratch: scratch.length }));
`;

function runWorkload(nodeFlags: string[]): Promise<{ relaxed: boolean; majors: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeFlags, '--input-type=module', '-e', WORKLOAD], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (data) => { output += String(data); });
    child.stderr.on('data', (data) => { output += String(data); });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`workload exited ${code}: ${output}`));
      else resolve(JSON.parse(output) as { relaxed: boolean; majors: number });
    });
  });
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('V8 old-generation growth in the sidecar process', () => {
  const injectedHeap = ['--max-semi-space-size=4', '--max-old-space-size=64'];

  it('halves the full collections a promoting workload needs under the injected old-space cap', async () => {
    const relaxed = await runWorkload(injectedHeap);
    const heuristic = await runWorkload([...injectedHeap, '--heap-growing-percent=0']);
    expect(relaxed.relaxed).toBe(true);
    // An explicit choice on the node command line wins (here 0: V8's own heuristic).
    expect(heuristic.relaxed).toBe(false);
    expect(heuristic.majors).toBeGreaterThan(10);
    expect(relaxed.majors).toBeLessThan(heuristic.majors * 0.7);
  });

  it('is set by `badgateway sidecar` once it is listening', async () => {
    const admin = await closedPort();
    const sidecar = startCli(['sidecar', '--upstream', `http://127.0.0.1:${await closedPort()}`, '--listen', `127.0.0.1:${await closedPort()}`, '--admin', `127.0.0.1:${admin}`, '--log-level', 'debug']);
    cleanups.push(() => sidecar.child.kill('SIGKILL'));
    await eventually(async () => (await request(`http://127.0.0.1:${admin}/readyz`)).statusCode === 200, 30_000, () => `sidecar ready (output: ${sidecar.output()})`);
    await eventually(() => sidecar.output().includes('V8 old-generation growth'), 5_000, () => `the growth setting logged (output: ${sidecar.output()})`);
    const growth = sidecar.output().split('\n').filter((line) => line.includes('V8 old-generation growth'));
    expect(growth).toHaveLength(1);
    expect(JSON.parse(growth[0] as string)).toMatchObject({ heapGrowingPercent: 300 });
  });
});

/**
 * A short run of the soak, through the documented entry point (`npm run soak` runs this script
 * after a build): the built sidecar between hostile clients and a misbehaving app survives with its
 * fds and heap back at the baseline. BADGATEWAY_SOAK_SECONDS sets the duration (default 20).
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../support/cli.js';
import { soakProblems, type SoakResult } from './soak/soak.ts';

const SECONDS = Number(process.env.BADGATEWAY_SOAK_SECONDS ?? 20);

function runSoakScript(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'test', 'reliability', 'soak', 'main.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (data) => { output += String(data); });
    child.stderr.on('data', (data) => { output += String(data); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe(`soak: hostile clients and a misbehaving app for ${SECONDS}s`, () => {
  it('ends with no crash, no fd growth and the heap back at its baseline after a forced GC', async () => {
    const { code, output } = await runSoakScript(['--seconds', String(SECONDS), '--concurrency', '16']);
    const line = output.split('\n').find((text) => text.startsWith('soak-result: '));
    if (line === undefined) throw new Error(`the soak printed no result: ${output.slice(-2_000)}`);
    const result = JSON.parse(line.slice('soak-result: '.length)) as SoakResult;
    console.log(line);
    expect(soakProblems(result)).toEqual([]);
    expect(result.appRequests).toBeGreaterThan(0);
    expect(code).toBe(0);
  }, (SECONDS + 120) * 1_000);

  it('refuses a duration it cannot bound', async () => {
    const { code, output } = await runSoakScript(['--minutes', '999']);
    expect(code).toBe(2);
    expect(output).toContain('--minutes/--seconds: a duration up to 60 minutes');
  });
});

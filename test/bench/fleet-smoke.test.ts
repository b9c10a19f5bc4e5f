/**
 * The fleet bench at a small size on the real control plane it starts itself: every policy becomes
 * Ready (before and after an operator restart), every opted-in Deployment's rollout passes the
 * webhook, the webhook answers while kube-apiserver restarts and the operator catches up after it,
 * the summary line parses, and the control plane it started is gone afterwards. Figures
 * are only checked for being figures: speed belongs to the bench, not to a test.
 */
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/cli.js';

const DEPLOYMENTS = 20;
const POLICIES = 5;
/** Policies applied one at a time into the steady fleet after the batch of POLICIES. */
const SINGLES = 2;

function runBench(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--experimental-transform-types', '--disable-warning=ExperimentalWarning', join(repoRoot, 'bench', 'fleet-main.ts'), ...args], {
    cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (data) => { output += String(data); });
  child.stderr.on('data', (data) => { output += String(data); });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, output })));
}

describe('bench:fleet at a small size', () => {
  it('brings every policy to Ready, survives an operator restart and ends with the summary line', async () => {
    const { code, output } = await runBench(['--deployments', String(DEPLOYMENTS), '--policies', String(POLICIES), '--single-samples', String(SINGLES), '--idle-seconds', '15']);
    expect({ code, tail: output.slice(-3000) }).toEqual({ code: 0, tail: expect.any(String) });

    const lines = output.trimEnd().split('\n');
    const summary = /^fleet: deployments=(\d+) policies=(\d+) ready_p99_ms=(\S+) webhook_p99_ms=(\S+) operator_rss_mib=(\S+) idle_requests_per_min=(\S+)$/.exec(lines.at(-1) ?? '');
    expect(summary).not.toBeNull();
    const [, deployments, policies, ...figures] = summary as RegExpExecArray;
    expect([Number(deployments), Number(policies)]).toEqual([DEPLOYMENTS, POLICIES]);
    for (const figure of figures) expect(Number.isFinite(Number(figure))).toBe(true);
    expect(Number(figures[2])).toBeGreaterThan(0);

    expect(output).toContain(`fleet: ${DEPLOYMENTS} Deployments (${DEPLOYMENTS * 5} pods) rolled out`);
    expect(output).toMatch(new RegExp(`${POLICIES} policies applied at once \\(their statuses listed every 100 ms\\): first status p50 \\d+ ms, p99 \\d+ ms; Ready p50 \\d+ ms, p99 \\d+ ms`));
    expect(output).toMatch(new RegExp(`${SINGLES} policies applied one at a time into the steady fleet: Ready p50 \\d+ ms`));
    expect(output).toContain(`${POLICIES + SINGLES} of ${POLICIES + SINGLES} Ready`);
    // What the RSS is made of, at both sizes of the memory slope.
    expect(output).toMatch(new RegExp(`memory at ${DEPLOYMENTS} Deployments: RSS [\\d.]+ MiB = node binary [\\d.]+ \\+ other files [\\d.]+ \\+ anonymous [\\d.]+`));
    // Half the Deployments are opted in: each one's rollout went through the webhook at least once.
    const admissions = Number(/rollout of (\d+) opted-in Deployments: (\d+) admissions/.exec(output)?.[2]);
    expect(admissions).toBeGreaterThanOrEqual(DEPLOYMENTS / 2);
    // The floor beside it: a no-op webhook with the same rules saw the same rollout, at the
    // apiserver and inside its server, as the operator's webhook did inside its own.
    const separated = /webhook during the rollout, p50 \/ p99 ms: at the apiserver ours (\S+) \/ (\S+) \((\d+) % ≤ 5 ms, (\d+) % ≤ 25 ms\), no-op floor (\S+) \/ (\S+) \((\d+) % ≤ 5 ms, (\d+) % ≤ 25 ms; (\d+) admissions\); inside the servers ours (\S+) \/ (\S+) \((\d+) reviews\), no-op (\S+) \/ (\S+); the no-op's (\d+) reviews came over (\d+) new TLS connections/.exec(output);
    expect(separated).not.toBeNull();
    const webhookFigures = (separated as RegExpExecArray).slice(1).map(Number);
    for (const figure of webhookFigures) expect(Number.isFinite(figure)).toBe(true);
    const [noopAdmissions, , , operatorReviews, , , noopReviews] = webhookFigures.slice(8);
    expect(noopAdmissions).toBeGreaterThanOrEqual(DEPLOYMENTS / 2);
    expect(noopReviews).toBeGreaterThanOrEqual(DEPLOYMENTS / 2);
    expect(operatorReviews).toBeGreaterThanOrEqual(DEPLOYMENTS / 2);
    // And the machine's own floor: the bench's calls to the no-op without the apiserver between.
    const direct = /the bench's own (\d+) reviews to the no-op right after, \d+ at a time over kept-alive HTTPS: p50 (\S+) ms, p99 (\S+) ms/.exec(output);
    expect(direct).not.toBeNull();
    const [directCalls, directP50, directP99] = (direct as RegExpExecArray).slice(1).map(Number);
    expect(directCalls).toBeGreaterThanOrEqual(DEPLOYMENTS / 2);
    expect([directP50, directP99].every((figure) => Number.isFinite(figure) && (figure as number) > 0)).toBe(true);

    // The apiserver restarted under the fleet: the webhook answered every review from its cache
    // meanwhile, and a policy changed on the apiserver's return was reconciled (the bench waits for it).
    const restart = /apiserver restart: away \d+ ms; webhook answered (\d+) of (\d+) reviews meanwhile; a policy changed on its return Ready in \d+ ms/.exec(output);
    expect(restart).not.toBeNull();
    const [, answered, reviews] = (restart as RegExpExecArray).map(Number);
    expect(reviews).toBeGreaterThan(0);
    expect(answered).toBe(reviews);

    const dataDir = /cluster: data and logs in (\S+)/.exec(output)?.[1];
    expect(dataDir).toBeDefined();
    expect(existsSync(dataDir as string)).toBe(false);
  }, 20 * 60_000);

  it('names the field of a bad size', async () => {
    const { code, output } = await runBench(['--deployments', 'many', '--policies', '5']);
    expect(code).toBe(2);
    expect(output).toContain('--deployments: expected a whole number ≥ 2, got "many"');
  }, 60_000);
});

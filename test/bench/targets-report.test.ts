import { describe, expect, it } from '@jest/globals';
import { NODE_UNDICI_PROXY, type Results } from '../../bench/report.ts';
import { renderTargets } from '../../bench/targets-report.ts';
import { FLOOR_LLHTTP, FLOOR_PIPE } from '../../bench/floor.ts';

const stats = (rps: number, p99: number, cpu: number) => ({ rps, p50: p99 / 2, p99, errors: 0, non2xx: 0, cpu, p99Rounds: [p99, p99 * 2, p99] });

function results(sidecarRps: number): Results {
  const cell = (connections: number, body: string) => ({
    connections, body,
    targets: { nginx: { ...stats(10_000, 10, 30), p99Rounds: [10, 10, 10] }, [NODE_UNDICI_PROXY]: stats(4_000, 20, 90), sidecar: stats(sidecarRps, 15, 50) },
  });
  return {
    smoke: false, rounds: 3, seconds: 5,
    healthy: [cell(64, '1k'), cell(64, '100k'), cell(512, '1k'), cell(512, '100k')],
    fixedRate: [1000, 5000].map((rate) => ({ rate, targets: { nginx: { p50: 1, p99: 3, addedP50: 0.3, addedP99: -0.1, requests: 1, errors: 0 }, sidecar: { p50: 1, p99: 3, addedP50: 0.5, addedP99: 1, requests: 1, errors: 0 } } })),
    allocation: { requests: 100_000, bytesPerRequest: 4_600, cpuMicrosPerRequest: 90, scavengesPer100k: 140, markCompactsPer100k: 0, gcMsPer100k: 500 },
    fastFailure: [{ name: 'sidecar (circuit open)', ...stats(30_000, 3, 20) }, { name: 'nginx return 502', ...stats(50_000, 2, 10) }],
    fastFailureUnsaturated: [{ name: 'sidecar (circuit open)', ...stats(9_000, 0.3, 0) }],
    blackhole: [],
    memory: { idle: 64, idleAnon: 19, loaded: 130, nodeBaseline: 47 },
    readyMs: 200, readyUncachedMs: 230, nodeReadyMs: 70, nodeOptions: '', environment: {}, args: [],
    machine: { cores: 2, cpu: 'x', node: 'v24', nginx: 'n', haproxy: 'h', wrk: 'w', date: 'd' },
  };
}

const rowOf = (lines: string[], start: string) => lines.find((line) => line.startsWith(`| ${start}`));

describe('bench targets section', () => {
  it('marks each target met or missed from the run\'s own figures, and explains the missed ones', () => {
    const lines = renderTargets(results(7_000));
    expect(rowOf(lines, '64 connections, 1 KiB: ≥ 0.6× nginx req/s')).toMatch(/0\.70× \| met/);
    expect(rowOf(lines, '64 connections, 1 KiB: ≥ 2.4×')).toMatch(/1\.75× \| missed/);
    expect(rowOf(lines, '64 connections, 100 KiB: ≥ 1.0×')).toMatch(/missed/);
    expect(rowOf(lines, 'RSS under 512 connections')).toMatch(/130\.0 MiB \| missed/);
    expect(rowOf(lines, 'added p99 at 1,000 req/s ≤ +0.6 ms')).toMatch(/\+1\.00 ms \(nginx -0\.10 ms\) \| missed/);
    expect(rowOf(lines, 'added p99 at 5,000 req/s ≤ 1.5× nginx')).toMatch(/not comparable/);
    expect(rowOf(lines, 'added p50 at 5,000 req/s')).toMatch(/\+0\.50 ms against nginx's \+0\.30 ms \| reported/);
    expect(rowOf(lines, 'allocation per proxied 1 KiB request ≤ 2 KiB')).toMatch(/4600 bytes; 140 scavenges per 100k requests \| missed/);
    expect(rowOf(lines, '512 connections, 1 KiB: p99 ≤ 2× nginx\'s in every round')).toMatch(/worst round 3\.00× \| missed/);
    expect(rowOf(lines, 'open circuit, one connection')).toMatch(/met/);
    expect(lines.join('\n')).toMatch(/Why:[\s\S]*64 connections, 1 KiB: ≥ 2\.4× the node:http \+ undici reference: The reference row/);
  });

  it('puts Node\'s floor beside the sidecar: its ratio to nginx, the sidecar\'s to it, and Node\'s share of the CPU gap', () => {
    const withFloor = results(7_000);
    withFloor.healthy = withFloor.healthy.map((row) => ({ ...row, targets: { ...row.targets, [FLOOR_PIPE]: stats(8_000, 12, 40), [FLOOR_LLHTTP]: stats(7_500, 13, 44) } }));
    withFloor.fixedRate = withFloor.fixedRate.map((row) => ({ ...row, targets: { ...row.targets, [FLOOR_PIPE]: { p50: 1, p99: 3, addedP50: 0.25, addedP99: 0.5, requests: 1, errors: 0 } } }));
    withFloor.floorAllocation = { [FLOOR_PIPE]: { requests: 100_000, bytesPerRequest: 1_500, cpuMicrosPerRequest: 40, scavengesPer100k: 45, markCompactsPer100k: 0, gcMsPer100k: 100 } };
    const lines = renderTargets(withFloor);
    expect(rowOf(lines, '64 connections, 1 KiB: ≥ 0.6× nginx req/s')).toMatch(/\| met \| floor 0\.80× nginx; sidecar\/floor 0\.88× \|$/);
    // nginx 30 µs, floor 40, sidecar 50: half the sidecar's gap to nginx is the floor's.
    expect(rowOf(lines, '64 connections, 1 KiB: CPU per request')).toMatch(/\| floor 40 µs \(1\.33× nginx's\), framed 44 µs; sidecar\/floor 1\.25×; Node's share of the gap 50 % \|$/);
    expect(rowOf(lines, 'added p99 at 1,000 req/s')).toMatch(/\| floor \+0\.50 ms; sidecar\/floor 2\.00× \|$/);
    expect(rowOf(lines, 'allocation per proxied 1 KiB request')).toMatch(/\| floor 1500 bytes; CPU µs per request: sidecar 90\.0, floor 40\.0 \|$/);
    // Without floor figures (an older RESULTS.json) the column stays empty.
    expect(rowOf(renderTargets(results(7_000)), '64 connections, 1 KiB: ≥ 0.6× nginx req/s')).toMatch(/\| met \| {2}\|$/);
  });

  it('says nothing under "Why" when every target is met', () => {
    const all = results(12_000);
    all.healthy = all.healthy.map((row) => ({ ...row, targets: { ...row.targets, [NODE_UNDICI_PROXY]: stats(4_000, 20, 90), sidecar: { ...stats(12_000, 15, 40), p99Rounds: [15, 15, 15] } } }));
    all.fixedRate = [];
    all.memory.loaded = 110;
    all.allocation = undefined;
    const lines = renderTargets(all);
    expect(lines.filter((line) => line.includes('| missed'))).toEqual([]);
    expect(lines).not.toContain('Why:');
  });
});

/**
 * `npm run bench`: badgateway's sidecar side by side with nginx and HAProxy on loopback, in one
 * run with alternating rounds, written to bench/RESULTS.md as tables and ratios.
 * `npm run bench:smoke` runs every scenario very briefly (CI: checks the harness, never speed).
 * Node's floor (bench/floor-proxy.ts: a bare net pipe, and one framed by llhttp) runs in the healthy,
 * fixed-rate and allocation measurements beside the sidecar: what of the gap to nginx is Node's own.
 * `--quick`: one round of each healthy and fixed-rate measurement, no overload scenario, about a
 * third of a full run's time (the full run takes about 25 minutes on the 2-core machine).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { haproxyConfig, nginxProxyConfig, nginxUpstreamConfig, WRK_JSON_SCRIPT, type Ports } from './configs.ts';
import { cpuMicros, fixedRate, freePort, median, percentile, rssMiB, runDirectory, start, timeToAnswer, toolVersion, waitForPort, wrk, type FixedRateResult, type WrkResult } from './processes.ts';
import { waitForReady } from '../tools/wait-for-ready.ts';
import { NODE_UNDICI_PROXY, renderResults, type Results } from './report.ts';
import { runOverload } from './overload.ts';
import { injectedEnvironment, sidecarHeapGrowingPercent, withDefaultOldSpaceCap } from './sidecar-environment.ts';
import { measureProcess, measureSidecar, type SidecarCost } from './alloc-measure.ts';
import { FLOOR_LLHTTP, FLOOR_PIPE, floorArgs } from './floor.ts';
import { renderOverload } from './overload-report.ts';

const smoke = process.argv.includes('--smoke');
const quick = process.argv.includes('--quick');
const outIndex = process.argv.indexOf('--out');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = outIndex > 0 ? (process.argv[outIndex + 1] as string) : join(root, 'bench', 'RESULTS.md');
/** `--cli PATH` measures another build (e.g. an older commit's dist/cli/main.js) with this harness. */
const cliIndex = process.argv.indexOf('--cli');
const cli = cliIndex > 0 ? resolve(process.argv[cliIndex + 1] as string) : join(root, 'dist', 'cli', 'main.js');
/** `--node-options STRING` replaces the injected NODE_OPTIONS ('' for none). */
const nodeOptionsIndex = process.argv.indexOf('--node-options');

const missing = ['nginx', 'haproxy', 'wrk', 'h2load'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
if (missing.length > 0) {
  process.stderr.write(`bench: missing ${missing.join(', ')}; install with:\n  apt-get update && apt-get install -y nginx-light haproxy wrk nghttp2-client\n`);
  process.exit(3);
}

const ROUNDS = smoke || quick ? 1 : 3;
const SECONDS = smoke ? 1 : 5;
const BLACKHOLE_SECONDS = smoke ? 2 : quick ? 10 : 20;
/** Fixed request rates for the added-latency measurement (open loop, 1 KiB); 6,400 is 64 connections × 100 req/s. */
const FIXED_RATES = smoke ? [200] : [1_000, 5_000, 6_400];
const FIXED_RATE_SECONDS = smoke ? 2 : 10;

const dir = runDirectory('badgateway-bench-');

/** The environment the operator injects into the sidecar container, NODE_OPTIONS apart. */
const { NODE_OPTIONS: injectedNodeOptions = '', ...sidecarEnvironment } = await injectedEnvironment(root);
const sidecarNodeOptions = nodeOptionsIndex > 0 ? (process.argv[nodeOptionsIndex + 1] as string) : await withDefaultOldSpaceCap(root, injectedNodeOptions);

/** The sidecars run with a compile cache warmed as the image warms it (tools/warm-compile-cache.ts). */
const compileCache = join(dir, 'compile-cache');
const warm = spawnSync(process.execPath, [join(root, 'tools', 'warm-compile-cache.ts'), compileCache, cli], { encoding: 'utf8' });
if (warm.status !== 0) throw new Error(`bench: warming the compile cache failed: ${warm.stderr}`);

function sidecar(upstreamPort: number, config: object, env: NodeJS.ProcessEnv = { NODE_COMPILE_CACHE: compileCache }): { port: number; admin: number; pid: () => number } {
  const port = ports.next();
  const admin = ports.next();
  const file = join(dir, `sidecar-${port}.json`);
  writeFileSync(file, JSON.stringify(config));
  const child = start(process.execPath, [cli, 'sidecar', '--upstream', `http://127.0.0.1:${upstreamPort}`, '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${admin}`, '--config', file, '--log-level', 'warn'], `sidecar:${port}`, { ...sidecarEnvironment, NODE_OPTIONS: sidecarNodeOptions, ...env });
  return { port, admin, pid: () => child.pid as number };
}

const allocated: number[] = [];
const ports = { next: () => allocated.shift() as number };
for (let index = 0; index < 64; index += 1) allocated.push(await freePort());

/** `--only-overload`: just the overload scenario, e.g. while tuning the limiter. */
const overloadOnly = process.argv.includes('--only-overload');
const overloadContext = () => ({ smoke, seconds: SECONDS, dir, root, nextPort: ports.next, sidecar });

async function main(): Promise<void> {
  if (overloadOnly) {
    writeFileSync(outFile, `# Benchmark results: overload only\n\n${machineFacts().date}\n${renderOverload(await runOverload(overloadContext())).join('\n')}\n`);
    process.stdout.write(`bench: wrote ${outFile}\n`);
    return;
  }
  const p: Ports = {
    upstream: ports.next(), nginxProxy: ports.next(), nginxStatic502: ports.next(), haproxy: ports.next(),
    blackhole: ports.next(), nginxBlackhole: ports.next(), haproxyBlackhole: ports.next(),
  };
  mkdirSync(join(dir, 'www'));
  writeFileSync(join(dir, 'www', '1k'), 'x'.repeat(1024));
  writeFileSync(join(dir, 'www', '100k'), 'x'.repeat(100 * 1024));
  writeFileSync(join(dir, 'upstream.conf'), nginxUpstreamConfig(dir, p));
  writeFileSync(join(dir, 'proxy.conf'), nginxProxyConfig(dir, p));
  writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(dir, p));
  const script = join(dir, 'json.lua');
  writeFileSync(script, WRK_JSON_SCRIPT);

  // A black hole: accepts TCP connections and never answers.
  const held: import('node:net').Socket[] = [];
  const blackhole = createServer((socket) => { held.push(socket); socket.on('error', () => undefined); });
  await new Promise<void>((done) => blackhole.listen(p.blackhole, '127.0.0.1', done));
  blackhole.unref();

  const nginxUpstream = start('nginx', ['-c', join(dir, 'upstream.conf'), '-p', dir], 'nginx-upstream');
  const nginxProxy = start('nginx', ['-c', join(dir, 'proxy.conf'), '-p', dir], 'nginx-proxy');
  const haproxy = start('haproxy', ['-f', join(dir, 'haproxy.cfg')], 'haproxy');
  const nodeStatic502 = ports.next();
  const nodeStatic = start(process.execPath, ['-e', nodeStatic502Server(nodeStatic502)], 'node-static-502');
  const healthy = sidecar(p.upstream, { circuitBreaker: { volumeThreshold: 1_000_000 } });
  const nodeUndiciPort = ports.next();
  const heapGrowingPercent = await sidecarHeapGrowingPercent(root);
  const nodeUndici = start(process.execPath, [`--heap-growing-percent=${heapGrowingPercent}`, '-e', nodeUndiciProxy(nodeUndiciPort, p.upstream)], 'node-undici-proxy', { ...sidecarEnvironment, NODE_OPTIONS: sidecarNodeOptions });
  // Node's floor: what any Node proxy of this load costs, beside what the sidecar costs (bench/floor-proxy.ts).
  const floorPorts = { [FLOOR_PIPE]: ports.next(), [FLOOR_LLHTTP]: ports.next() };
  const floors = Object.fromEntries(Object.entries(floorPorts).map(([name, port]) => [name, start(process.execPath, floorArgs(port, p.upstream, name === FLOOR_LLHTTP, heapGrowingPercent), name, { ...sidecarEnvironment, NODE_OPTIONS: sidecarNodeOptions })]));
  const dead = await freePort();
  const open = sidecar(dead, { circuitBreaker: { volumeThreshold: 5, resetTimeout: '1h' } });
  const holeSidecar = sidecar(p.blackhole, { timeouts: { response: '1s' }, circuitBreaker: { volumeThreshold: 10, errorThresholdPercentage: 50, rollingWindow: '10s', resetTimeout: '5s' } });
  for (const port of [p.upstream, p.nginxProxy, p.nginxStatic502, p.haproxy, nodeStatic502, nodeUndiciPort, ...Object.values(floorPorts)]) await waitForPort(port);
  for (const s of [healthy, open, holeSidecar]) await waitForReady(s.admin);
  for (let index = 0; index < 10; index += 1) await (await request(`http://127.0.0.1:${open.port}/`)).body.dump();
  // The same bytes the open circuit sends, from a bare node:http server: what Node itself costs
  // for this response, apart from everything the sidecar does to produce it.
  const sameResponse = await request(`http://127.0.0.1:${open.port}/`);
  const sameBody = await sameResponse.body.text();
  const sameHeaders = Object.fromEntries(Object.entries(sameResponse.headers).filter(([name]) => !['date', 'connection', 'keep-alive'].includes(name)));
  const nodeSame502 = ports.next();
  const nodeSame = start(process.execPath, ['-e', nodeFixedResponseServer(nodeSame502, sameResponse.statusCode, sameHeaders, sameBody)], 'node-same-502');
  await waitForPort(nodeSame502);

  const results: Results = {
    smoke, rounds: ROUNDS, seconds: SECONDS, healthy: [], fixedRate: [], fastFailure: [], fastFailureUnsaturated: [], blackhole: [],
    memory: { idle: NaN, idleAnon: NaN, loaded: NaN, nodeBaseline: NaN }, readyMs: NaN, readyUncachedMs: NaN, nodeReadyMs: NaN, nodeOptions: sidecarNodeOptions, environment: sidecarEnvironment, args: process.argv.slice(2), machine: machineFacts(),
  };
  await new Promise((resolve) => setTimeout(resolve, 500)); // let start-up garbage settle
  results.memory.idle = rssMiB(healthy.pid());
  results.memory.idleAnon = rssMiB(healthy.pid(), 'RssAnon');
  results.memory.nodeBaseline = rssMiB(nodeStatic.pid as number);

  const healthyTargets = { direct: p.upstream, nginx: p.nginxProxy, haproxy: p.haproxy, [NODE_UNDICI_PROXY]: nodeUndiciPort, ...floorPorts, sidecar: healthy.port };
  /** Whose CPU each target's row reports: the proxy's own process (for direct, the upstream nginx). */
  const pids: Record<string, () => number> = {
    direct: () => nginxUpstream.pid as number, nginx: () => nginxProxy.pid as number, haproxy: () => haproxy.pid as number,
    [NODE_UNDICI_PROXY]: () => nodeUndici.pid as number, sidecar: healthy.pid,
    ...Object.fromEntries(Object.entries(floors).map(([name, child]) => [name, () => child.pid as number])),
    'sidecar (circuit open)': open.pid, 'nginx return 502': () => nginxProxy.pid as number,
    'node:http static 502': () => nodeStatic.pid as number, 'node:http, the sidecar\'s 502 bytes': () => nodeSame.pid as number,
  };
  /** A load against one target, with the CPU µs per request its process spent meanwhile. */
  const costed = async <T extends { requests: number }>(name: string, load: () => Promise<T>): Promise<T & { cpu: number }> => {
    const pid = pids[name]?.();
    const before = pid === undefined ? NaN : cpuMicros(pid);
    const result = await load();
    const after = pid === undefined ? NaN : cpuMicros(pid);
    return { ...result, cpu: (after - before) / Math.max(1, result.requests) };
  };
  /** wrk against one target, with the CPU µs per request its process spent meanwhile. */
  const measured = (name: string, url: string, connections: number): Promise<WrkResult & { cpu: number }> => costed(name, () => wrk(url, connections, SECONDS, script));
  /** Whose RSS is sampled halfway through each 512-connection run, and where it goes: the sidecar's, and Node's floor's under the same load. */
  const rssSampled: Record<string, 'loaded' | 'loadedFloor'> = { sidecar: 'loaded', [FLOOR_PIPE]: 'loadedFloor' };
  // Warm-up (JIT, connection pools) before anything is measured.
  for (const port of [...Object.values(healthyTargets), open.port]) await wrk(`http://127.0.0.1:${port}/1k`, 64, 1, script);
  for (const connections of [64, 512]) {
    for (const body of ['1k', '100k']) {
      const runs: Record<string, WrkResult[]> = {};
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const [name, port] of Object.entries(healthyTargets)) {
          let rss = NaN;
          const sampled = connections === 512 ? rssSampled[name] : undefined;
          const sampler = sampled === undefined ? undefined : setTimeout(() => { rss = rssMiB(pids[name]!()); }, (SECONDS * 1000) / 2);
          const result = await measured(name, `http://127.0.0.1:${port}/${body}`, connections);
          if (sampler !== undefined && sampled !== undefined) {
            clearTimeout(sampler);
            const highest = results.memory[sampled] ?? NaN;
            results.memory[sampled] = Math.max(Number.isNaN(highest) ? 0 : highest, rss);
          }
          (runs[name] ??= []).push(result);
        }
      }
      results.healthy.push({ connections, body, targets: summarize(runs) });
    }
  }

  // Added latency at fixed rates (how sidecars are compared): open loop, 1 KiB, alternating rounds.
  for (const rate of FIXED_RATES) {
    const runs: Record<string, (FixedRateResult & { cpu: number })[]> = {};
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const [name, port] of Object.entries(healthyTargets)) {
        (runs[name] ??= []).push(await costed(name, () => fixedRate(`http://127.0.0.1:${port}/1k`, rate, FIXED_RATE_SECONDS, join(dir, `h2load-${name.replace(/\W+/g, '-')}.log`))));
      }
    }
    const direct = runs.direct ?? [];
    results.fixedRate.push({
      rate,
      targets: Object.fromEntries(Object.entries(runs).map(([name, list]) => [name, {
        p50: median(list.map((run) => run.p50)),
        p99: median(list.map((run) => run.p99)),
        addedP50: median(list.map((run, index) => run.p50 - (direct[index]?.p50 ?? NaN))),
        addedP99: median(list.map((run, index) => run.p99 - (direct[index]?.p99 ?? NaN))),
        cpu: median(list.map((run) => run.cpu)),
        requests: list.reduce((sum, run) => sum + run.requests, 0),
        errors: list.reduce((sum, run) => sum + run.errors, 0),
      }])),
    });
  }

  // What one proxied request costs inside the sidecar, and inside Node's floors: bytes allocated, collections, CPU time.
  const allocationLoad = [{ connections: 64, requests: smoke ? 2_000 : 100_000 }];
  const allocationWarmUp = { warmUp: smoke ? 1_000 : 20_000 };
  const env = { ...sidecarEnvironment, NODE_OPTIONS: sidecarNodeOptions };
  const [allocation] = await measureSidecar({ cli, env: { ...env, NODE_COMPILE_CACHE: compileCache }, upstreamPort: p.upstream, dir }, allocationLoad, allocationWarmUp);
  if (allocation !== undefined) results.allocation = allocationFigures(allocation);
  results.floorAllocation = {};
  for (const name of [FLOOR_PIPE, FLOOR_LLHTTP]) {
    const port = ports.next();
    const [cost] = await measureProcess({ args: floorArgs(port, p.upstream, name === FLOOR_LLHTTP, heapGrowingPercent), env, port, ready: () => waitForPort(port) }, allocationLoad, allocationWarmUp);
    if (cost !== undefined) results.floorAllocation[name] = allocationFigures(cost);
  }

  const failureTargets = { 'sidecar (circuit open)': open.port, 'nginx return 502': p.nginxStatic502, 'node:http static 502': nodeStatic502, 'node:http, the sidecar\'s 502 bytes': nodeSame502 };
  const failureRuns: Record<string, WrkResult[]> = {};
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, port] of Object.entries(failureTargets)) (failureRuns[name] ??= []).push(await measured(name, `http://127.0.0.1:${port}/`, 64));
  }
  results.fastFailure = Object.entries(summarize(failureRuns)).map(([name, value]) => ({ name, ...value }));
  // One connection: nothing queues, so p50/p99 are the time one request takes, not CPU contention.
  const unsaturatedRuns: Record<string, WrkResult[]> = {};
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, port] of Object.entries(failureTargets)) (unsaturatedRuns[name] ??= []).push(await wrk(`http://127.0.0.1:${port}/`, 1, SECONDS, script));
  }
  results.fastFailureUnsaturated = Object.entries(summarize(unsaturatedRuns)).map(([name, value]) => ({ name, ...value }));

  for (const [name, port] of Object.entries({ sidecar: holeSidecar.port, nginx: p.nginxBlackhole, haproxy: p.haproxyBlackhole })) {
    const { durations, statuses } = await timeToAnswer(`http://127.0.0.1:${port}/`, 16, BLACKHOLE_SECONDS);
    results.blackhole.push({
      name,
      requests: durations.length,
      waitedFullTimeout: durations.filter((ms) => ms >= 900).length,
      p50: percentile(durations, 50),
      p99: percentile(durations, 99),
      statuses: Object.fromEntries(statuses),
    });
  }
  for (const socket of held) socket.destroy();

  if (!quick) results.overload = await runOverload(overloadContext());

  // Start-to-ready, alternating with Node's own floor: a bare node:http server until it listens.
  const readies: number[] = [];
  const uncachedReadies: number[] = [];
  const nodeReadies: number[] = [];
  for (let index = 0; index < (smoke ? 1 : quick ? 2 : 5); index += 1) {
    const s = sidecar(p.upstream, {});
    readies.push(await waitForReady(s.admin));
    process.kill(s.pid(), 'SIGKILL');
    const uncached = sidecar(p.upstream, {}, { NODE_COMPILE_CACHE: undefined });
    uncachedReadies.push(await waitForReady(uncached.admin));
    process.kill(uncached.pid(), 'SIGKILL');
    const port = await freePort();
    const started = performance.now();
    const bare = start(process.execPath, ['-e', nodeStatic502Server(port)], `node-bare:${port}`);
    await waitForPort(port, 10_000, 2);
    nodeReadies.push(performance.now() - started);
    bare.kill('SIGKILL');
  }
  results.readyMs = median(readies);
  results.readyUncachedMs = median(uncachedReadies);
  results.nodeReadyMs = median(nodeReadies);

  writeFileSync(outFile, renderResults(results));
  // The figures themselves, so the page can be rendered again (bench/render.ts) when its text changes.
  const jsonFile = outFile.replace(/\.md$/, '') + '.json';
  writeFileSync(jsonFile, `${JSON.stringify(results, null, 1)}\n`);
  process.stdout.write(`bench: wrote ${outFile} and ${jsonFile}\n`);
}

function allocationFigures({ sites: _sites, rssMiB: _rss, ...figures }: SidecarCost): NonNullable<Results['allocation']> {
  return figures;
}

function summarize(runs: Record<string, (WrkResult & { cpu?: number })[]>): Record<string, { rps: number; p50: number; p99: number; errors: number; non2xx: number; cpu: number; p99Rounds: number[] }> {
  return Object.fromEntries(Object.entries(runs).map(([name, list]) => [name, {
    rps: median(list.map((run) => run.rps)),
    cpu: median(list.map((run) => run.cpu ?? NaN)),
    p50: median(list.map((run) => run.p50)),
    p99: median(list.map((run) => run.p99)),
    p99Rounds: list.map((run) => run.p99),
    errors: list.reduce((sum, run) => sum + run.errors - run.non2xx, 0),
    non2xx: list.reduce((sum, run) => sum + run.non2xx, 0),
  }]));
}

/**
 * Node's ceiling for proxying: node:http in front of the same undici Pool the sidecar uses, with
 * none of its work (no header rewriting, breaker, timeouts, metrics, error pages, backpressure),
 * under the sidecar's heap settings. The healthy-proxying gap to nginx that this one shares is
 * Node's; the rest is the sidecar's.
 */
function nodeUndiciProxy(port: number, upstreamPort: number): string {
  return `const Pool = require(${JSON.stringify(join(root, 'node_modules', 'undici', 'lib', 'dispatcher', 'pool.js'))});
const pool = new Pool('http://127.0.0.1:${upstreamPort}', { connections: null, pipelining: 1 });
require('node:http').createServer((q, s) => pool.dispatch({ path: q.url, method: q.method, headers: q.rawHeaders }, {
  onRequestStart() {}, onResponseStart(c, status, headers) { s.writeHead(status, headers); },
  onResponseData(c, chunk) { s.write(chunk); }, onResponseEnd() { s.end(); }, onResponseError(c, e) { s.destroy(e); },
})).listen(${port}, '127.0.0.1')`;
}

/** Node's own ceiling for a fixed 502: a bare node:http server, nothing else loaded. */
function nodeStatic502Server(port: number): string {
  return nodeFixedResponseServer(port, 502, { 'content-type': 'text/plain', 'content-length': '16' }, '502 Bad Gateway\n');
}

function nodeFixedResponseServer(port: number, status: number, headers: Record<string, string | string[] | undefined>, body: string): string {
  return `const headers = ${JSON.stringify(headers)}, body = ${JSON.stringify(body)};
require('node:http').createServer((q, s) => { s.writeHead(${status}, headers); s.end(body); }).listen(${port}, '127.0.0.1')`;
}

function machineFacts(): Results['machine'] {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? '?',
    node: process.version,
    nginx: toolVersion('nginx', ['-v']),
    haproxy: toolVersion('haproxy', ['-v']),
    wrk: toolVersion('wrk', ['-v']),
    date: new Date().toISOString(),
  };
}

await main();
process.exit(0);

/**
 * `node bench/profile.ts`: where a proxy's CPU goes, per function, in µs a proxied 1 KiB request.
 * The sidecar (or Node's floor, bench/floor-proxy.ts) runs in front of nginx with `--perf-basic-prof`
 * (JIT symbols for perf) and the injected NODE_OPTIONS; after a warm-up, `perf record` samples its
 * CPU clock while h2load loads it at a fixed rate (open loop, 100 req/s a connection), so two
 * processes are compared at the same requests a second. Each function's self time is its share of
 * the samples times the process's CPU over the window (/proc), divided by the requests h2load
 * completed in it. Options:
 *   --cli PATH           another build's dist/cli/main.js
 *   --floor pipe|llhttp  Node's floor instead of the sidecar
 *   --rate R             requests a second (default 5000; 0: closed loop, 64 connections as fast as
 *                        answered); --seconds S recorded (default 10)
 *   --out FILE           the profile as JSON (default: none), for --vs
 *   --vs A.json B.json   no run: the two profiles side by side, biggest difference first
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { waitForReady } from '../tools/wait-for-ready.ts';
import { nginxUpstreamConfig } from './configs.ts';
import { floorArgs } from './floor.ts';
import { cpuMicros, freePort, runDirectory, start, waitForPort } from './processes.ts';
import { injectedEnvironment, sidecarHeapGrowingPercent, withDefaultOldSpaceCap } from './sidecar-environment.ts';

export interface Profile {
  what: string;
  requests: number;
  cpuMicrosPerRequest: number;
  /** Self time per symbol (`dso: symbol`), µs a request. */
  symbols: Record<string, number>;
}

const { values, positionals } = parseArgs({
  options: {
    cli: { type: 'string' },
    floor: { type: 'string' },
    rate: { type: 'string', default: '5000' },
    seconds: { type: 'string', default: '10' },
    out: { type: 'string' },
    vs: { type: 'boolean', default: false },
    top: { type: 'string', default: '40' },
  },
  allowPositionals: true,
});
const top = Number(values.top);

if (values.vs) {
  const [a, b] = positionals.map((file) => JSON.parse(readFileSync(file, 'utf8')) as Profile) as [Profile, Profile];
  printDiff(a, b);
  process.exit(0);
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const dir = runDirectory('badgateway-profile-');
mkdirSync(join(dir, 'www'));
writeFileSync(join(dir, 'www', '1k'), 'x'.repeat(1024));
const upstreamPort = await freePort();
writeFileSync(join(dir, 'upstream.conf'), nginxUpstreamConfig(dir, { upstream: upstreamPort, nginxProxy: 0, nginxStatic502: 0, haproxy: 0, blackhole: 0, nginxBlackhole: 0, haproxyBlackhole: 0 }));
start('nginx', ['-c', join(dir, 'upstream.conf'), '-p', dir], 'nginx-upstream');
await waitForPort(upstreamPort);

const { NODE_OPTIONS: injected = '', ...environment } = await injectedEnvironment(root);
const env = { ...environment, NODE_OPTIONS: await withDefaultOldSpaceCap(root, injected) };
const port = await freePort();
/** JIT symbols for perf (/tmp/perf-PID.map); V8's own log, which the flag also starts, into the run's folder. */
const PERF_FLAGS = ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${join(dir, 'v8.log')}`];
let what: string;
let child: ChildProcess;
if (values.floor === undefined) {
  const cli = values.cli === undefined ? join(root, 'dist', 'cli', 'main.js') : resolve(values.cli);
  what = `sidecar ${cli}`;
  const admin = await freePort();
  const config = join(dir, 'policy.json');
  writeFileSync(config, JSON.stringify({ circuitBreaker: { volumeThreshold: 1_000_000 } }));
  child = start(process.execPath, [...PERF_FLAGS, cli, 'sidecar', '--upstream', `http://127.0.0.1:${upstreamPort}`, '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${admin}`, '--config', config, '--log-level', 'warn'], 'sidecar', env);
  await waitForReady(admin, { stillRunning: () => child.exitCode === null });
} else {
  if (!['pipe', 'llhttp'].includes(values.floor)) throw new Error(`--floor: ${JSON.stringify(values.floor)} is not one of pipe, llhttp`);
  what = `Node floor (${values.floor})`;
  child = start(process.execPath, [...PERF_FLAGS, ...floorArgs(port, upstreamPort, values.floor === 'llhttp', await sidecarHeapGrowingPercent(root))], 'floor', env);
  await waitForPort(port);
}
const pid = child.pid as number;
const url = `http://127.0.0.1:${port}/1k`;
await h2load(['--h1', '-c64', '-n40000', url]);

const connections = rate === 0 ? 64 : Math.max(1, Math.round(rate / 100));
const load = h2load(['--h1', `-c${connections}`, ...(rate === 0 ? [] : [`--rps=${rate / connections}`]), `-D${seconds + 3}`, url]);
await new Promise((done) => setTimeout(done, 1_500));
const data = join(dir, 'perf.data');
const cpuBefore = cpuMicros(pid);
const recorded = spawnSync('perf', ['record', '-e', 'cpu-clock', '-F', '4999', '-p', String(pid), '-o', data, '--', 'sleep', String(seconds)], { encoding: 'utf8' });
const cpu = cpuMicros(pid) - cpuBefore;
if (recorded.status !== 0) throw new Error(`perf record: ${recorded.stderr}`);
const answered = await load;
// Requests completed while perf recorded: the run's rate times the recorded window.
const requests = (answered / (seconds + 3 - 1)) * seconds;
const profile: Profile = { what, requests, cpuMicrosPerRequest: cpu / requests, symbols: selfTimes(data, cpu / requests) };
if (values.out !== undefined) writeFileSync(values.out, `${JSON.stringify(profile, null, 1)}\n`);
printProfile(profile);
process.exit(0);

/** h2load's count of 2xx answers; anything else fails the run. */
function h2load(args: string[]): Promise<number> {
  const run = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  run.stdout.on('data', (chunk) => { output += String(chunk); });
  run.stderr.on('data', (chunk) => { output += String(chunk); });
  return new Promise((resolveRun, reject) => run.on('close', () => {
    const line = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(output);
    if (line === null || line[3] !== '0' || line[4] !== '0') reject(new Error(`h2load: ${output.slice(-500)}`));
    else resolveRun(Number(line[2]));
  }));
}

/** Self time per symbol from `perf report`, scaled so that all samples make `perRequest` µs. */
function selfTimes(file: string, perRequest: number): Record<string, number> {
  const report = spawnSync('perf', ['report', '-i', file, '--stdio', '--no-children', '--sort', 'dso,sym', '-g', 'none', '--percent-limit', '0', '-t', '\t'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const symbols: Record<string, number> = {};
  for (const line of report.stdout.split('\n')) {
    const [share, dso, symbol] = line.split('\t').map((field) => field.trim());
    if (share === undefined || !share.endsWith('%') || dso === undefined || symbol === undefined) continue;
    const name = `${dso.replace(/^\[JIT\] tid \d+$/, 'JIT').replace(/^.*\//, '')}: ${normalized(symbol)}`;
    symbols[name] = (symbols[name] ?? 0) + (Number(share.slice(0, -1)) / 100) * perRequest;
  }
  return symbols;
}

/**
 * `JS:*onHead /…/dist/cli/chunks/chunk-2VDIDVGT.js:123:4` → `JS onHead (ours)`: the same function
 * whatever its tier, line and build (the sidecar's bundle or the floor's modules); Node's own keep their module.
 */
function normalized(symbol: string): string {
  return symbol.replace(/^\[[.k]\]\s+/, '').replace(/^(JS|LazyCompile|Function):[*~^+']*/, 'JS ').replace(/^JS '/, 'JS ')
    .replace(/ (file:\/\/)?\/[^ ]*\.(js|ts)(:\d+)*$/, ' (ours)')
    .replace(/ (node:[^ ]+?)(:\d+)+$/, ' $1');
}

function printProfile(profile: Profile): void {
  process.stdout.write(`${profile.what}: ${profile.requests.toFixed(0)} requests, ${profile.cpuMicrosPerRequest.toFixed(1)} µs CPU a request\n`);
  const byPlace = new Map<string, number>();
  for (const [name, micros] of Object.entries(profile.symbols)) {
    const place = placeOf(name);
    byPlace.set(place, (byPlace.get(place) ?? 0) + micros);
  }
  for (const [place, micros] of [...byPlace].sort((x, y) => y[1] - x[1])) process.stdout.write(`  ${micros.toFixed(1).padStart(6)} µs  ${place}\n`);
  for (const [name, micros] of Object.entries(profile.symbols).sort((x, y) => y[1] - x[1]).slice(0, top)) process.stdout.write(`  ${micros.toFixed(2).padStart(6)}  ${name}\n`);
}

/** Kernel, the node binary, JavaScript, WebAssembly or a library. */
function placeOf(name: string): string {
  if (name.startsWith('[kernel')) return 'kernel';
  if (name.includes(': JS ')) return 'JavaScript (JIT)';
  if (name.includes('wasm')) return 'WebAssembly';
  return name.slice(0, name.indexOf(':'));
}

function printDiff(a: Profile, b: Profile): void {
  process.stdout.write(`A: ${a.what}, ${a.cpuMicrosPerRequest.toFixed(1)} µs a request\nB: ${b.what}, ${b.cpuMicrosPerRequest.toFixed(1)} µs a request\n`);
  const names = new Set([...Object.keys(a.symbols), ...Object.keys(b.symbols)]);
  const rows = [...names].map((name) => ({ name, a: a.symbols[name] ?? 0, b: b.symbols[name] ?? 0 }));
  rows.sort((x, y) => Math.abs(y.b - y.a) - Math.abs(x.b - x.a));
  process.stdout.write('     A       B    B−A  symbol\n');
  for (const row of rows.slice(0, top)) process.stdout.write(`${row.a.toFixed(2).padStart(6)}  ${row.b.toFixed(2).padStart(6)}  ${(row.b - row.a).toFixed(2).padStart(6)}  ${row.name}\n`);
}

/**
 * `npm run bench:http2`: h2c and gRPC unary through the sidecar (--app-protocol h2c) beside nginx
 * (`http2` listener, `grpc_pass`), HAProxy (`proto h2` both sides), the floor (a bare node:http2
 * proxy, bench/h2-floor-proxy.ts: what Node's binding reaches without the sidecar's work) and
 * direct, in one run with alternating rounds, load by h2load (4 connections × 32 streams), each
 * proxy's CPU time per request beside its figures; then the sidecar's RSS after 1,000,000 requests
 * and at 1,000 concurrent streams. Written to bench/RESULTS-http2.md, each row with the machine's
 * load average beside it (the machine is shared: compare ratios of one run).
 * `--smoke` runs it very briefly (checks the harness, never speed).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { haproxyH2Config, nginxH2cAppConfig, nginxH2ProxyConfig } from './h2-configs.ts';
import { cpuMicros, freePort, median, percentile, rssMiB, runDirectory, start, toolVersion, waitForPort } from './processes.ts';
import { injectedEnvironment, withDefaultOldSpaceCap } from './sidecar-environment.ts';
import { waitForReady } from '../tools/wait-for-ready.ts';

const smoke = process.argv.includes('--smoke');
const outIndex = process.argv.indexOf('--out');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = outIndex > 0 ? (process.argv[outIndex + 1] as string) : join(root, 'bench', 'RESULTS-http2.md');
const cli = join(root, 'dist', 'cli', 'main.js');
const interopServer = join(root, '.go-tools', 'interop-server');
const floorProxy = join(root, 'bench', 'h2-floor-proxy.ts');
const ROUNDS = smoke ? 1 : 3;
const SECONDS = smoke ? 1 : 5;
const MANY_REQUESTS = smoke ? 10_000 : 1_000_000;
const LOAD = ['-c4', '-m32'];
/** gRPC's EmptyCall with an empty message: a 5-byte length-prefixed frame. */
const GRPC_PATH = '/grpc.testing.TestService/EmptyCall';

const dir = runDirectory('badgateway-bench-h2-');

/** The sidecar runs with the environment the operator injects (heap settings), as in RESULTS.md. */
const { NODE_OPTIONS: injectedNodeOptions = '', ...sidecarEnvironment } = await injectedEnvironment(root);
const sidecarNodeOptions = await withDefaultOldSpaceCap(root, injectedNodeOptions);

interface H2loadResult { rps: number; p50: number; p99: number; requests: number; failed: number; load: number; cpuMicrosPerRequest: number }

/** A row of the table: where h2load sends its load, and the process whose CPU time it costs. */
interface Target { url: string; pid: number }

/**
 * One h2load run; latencies from its per-request log, requests/s from its summary, with `pid`: its
 * CPU time (with its children's, from /proc) from the end of the run's warm-up to its end, per request.
 */
async function h2load(url: string, args: string[], pid?: number, warmUpSeconds = 0): Promise<H2loadResult> {
  const log = join(dir, 'h2load.log');
  rmSync(log, { force: true });
  const load = loadavg()[0] as number;
  const child = spawn('h2load', [...LOAD, ...args, ...(warmUpSeconds > 0 ? [`--warm-up-time=${warmUpSeconds}`] : []), `--log-file=${log}`, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let cpuBefore = NaN;
  const warmedUp = setTimeout(() => { if (pid !== undefined) cpuBefore = cpuMicros(pid); }, warmUpSeconds * 1000);
  let output = '';
  child.stdout.on('data', (data) => { output += String(data); });
  child.stderr.on('data', (data) => { output += String(data); });
  await new Promise((done) => child.on('close', done));
  clearTimeout(warmedUp);
  const cpu = pid === undefined ? NaN : cpuMicros(pid) - cpuBefore;
  const rps = Number(/finished in [^,]+, ([\d.]+) req\/s/.exec(output)?.[1] ?? NaN);
  const counts = /requests: (\d+) total, \d+ started, (\d+) done, \d+ succeeded, (\d+) failed/.exec(output);
  const durations = readFileSync(log, 'utf8').split('\n').map((line) => Number(line.split('\t')[2]) / 1000).filter((ms) => !Number.isNaN(ms));
  if (counts === null) throw new Error(`h2load gave no result for ${url}: ${output.slice(-500)}`);
  const [p50, p99] = durations.length === 0 ? [NaN, NaN] : [percentile(durations, 50), percentile(durations, 99)];
  return { rps, p50, p99, requests: Number(counts[1]), failed: Number(counts[3]), load, cpuMicrosPerRequest: cpu / Number(counts[2]) };
}

function sidecar(upstreamPort: number, port: number, admin: number): { pid: () => number } {
  const file = join(dir, `sidecar-${port}.json`);
  writeFileSync(file, JSON.stringify({ circuitBreaker: { volumeThreshold: 1_000_000 } }));
  const child = start(process.execPath, [cli, 'sidecar', '--upstream', `http://127.0.0.1:${upstreamPort}`, '--app-protocol', 'h2c', '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${admin}`, '--config', file, '--log-level', 'warn'], `sidecar:${port}`, { ...sidecarEnvironment, NODE_OPTIONS: sidecarNodeOptions });
  return { pid: () => child.pid as number };
}

/** The floor runs with the sidecar's NODE_OPTIONS: the difference between the two rows is then the sidecar's own code. */
function floor(upstreamPort: number, port: number): number {
  return start(process.execPath, [floorProxy, String(port), `http://127.0.0.1:${upstreamPort}`], `floor:${port}`, { NODE_OPTIONS: sidecarNodeOptions }).pid as number;
}

/** Alternating rounds over `targets`; the median of each. */
async function rounds(targets: Record<string, Target>, args: string[]): Promise<Record<string, H2loadResult>> {
  const runs: Record<string, H2loadResult[]> = {};
  for (const { url } of Object.values(targets)) await h2load(url, [...args, '-D1']); // warm-up
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, { url, pid }] of Object.entries(targets)) (runs[name] ??= []).push(await h2load(url, [...args, `-D${SECONDS}`], pid, 1));
  }
  const medianOf = (list: H2loadResult[], key: 'rps' | 'p50' | 'p99' | 'load' | 'cpuMicrosPerRequest') => median(list.map((run) => run[key]));
  return Object.fromEntries(Object.entries(runs).map(([name, list]) => [name, {
    rps: medianOf(list, 'rps'), p50: medianOf(list, 'p50'), p99: medianOf(list, 'p99'), load: medianOf(list, 'load'), cpuMicrosPerRequest: medianOf(list, 'cpuMicrosPerRequest'),
    requests: list.reduce((sum, run) => sum + run.requests, 0), failed: list.reduce((sum, run) => sum + run.failed, 0),
  }]));
}

const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;

function table(title: string, rows: Record<string, H2loadResult>): string[] {
  const { haproxy, nginx, floor: floorRow, sidecar: sidecarRow } = rows;
  const lines = [`### ${title}`, '', '| target | req/s | p50 ms | p99 ms | CPU µs per request | failed | load average (1 min) |', '|---|---|---|---|---|---|---|'];
  for (const [name, row] of Object.entries(rows)) lines.push(`| ${name} | ${row.rps.toFixed(0)} | ${row.p50.toFixed(2)} | ${row.p99.toFixed(2)} | ${row.cpuMicrosPerRequest.toFixed(0)} | ${row.failed} of ${row.requests} | ${row.load.toFixed(1)} |`);
  if (haproxy !== undefined && nginx !== undefined && sidecarRow !== undefined) {
    lines.push('', `Sidecar ÷ HAProxy: ${ratio(sidecarRow.rps, haproxy.rps)} req/s, ${ratio(sidecarRow.p99, haproxy.p99)} p99. Sidecar ÷ nginx \`grpc_pass\`: ${ratio(sidecarRow.rps, nginx.rps)} req/s.`);
  }
  if (haproxy !== undefined && nginx !== undefined && floorRow !== undefined && sidecarRow !== undefined) {
    lines.push('', `Floor ÷ HAProxy: ${ratio(floorRow.rps, haproxy.rps)} req/s, ${ratio(floorRow.p99, haproxy.p99)} p99; floor ÷ nginx: ${ratio(floorRow.rps, nginx.rps)} req/s. Sidecar ÷ floor: ${ratio(sidecarRow.rps, floorRow.rps)} req/s, ${ratio(sidecarRow.p99, floorRow.p99)} p99, ${ratio(sidecarRow.cpuMicrosPerRequest, floorRow.cpuMicrosPerRequest)} CPU per request.`);
  }
  return [...lines, ''];
}

async function main(): Promise<void> {
  const ports: Record<string, number> = {};
  for (const name of ['app', 'grpc', 'nginxH2', 'nginxGrpc', 'haproxyH2', 'haproxyGrpc', 'floorH2', 'floorGrpc', 'sidecarH2', 'sidecarGrpc', 'adminH2', 'adminGrpc']) ports[name] = await freePort();
  const port = (name: string): number => ports[name] as number;
  mkdirSync(join(dir, 'www'));
  writeFileSync(join(dir, 'www', '1k'), 'x'.repeat(1024));
  writeFileSync(join(dir, 'empty.grpc'), Buffer.alloc(5));
  writeFileSync(join(dir, 'nginx-app.conf'), nginxH2cAppConfig(dir, port('app')));
  writeFileSync(join(dir, 'nginx-proxy.conf'), nginxH2ProxyConfig(dir, { app: port('app'), grpc: port('grpc'), nginxH2: port('nginxH2'), nginxGrpc: port('nginxGrpc') }));
  writeFileSync(join(dir, 'haproxy.cfg'), haproxyH2Config({ app: port('app'), grpc: port('grpc'), haproxyH2: port('haproxyH2'), haproxyGrpc: port('haproxyGrpc') }));
  // The app and the proxy in nginx processes of their own, so that each one's CPU time is its own.
  const appPid = start('nginx', ['-c', join(dir, 'nginx-app.conf'), '-p', dir], 'nginx-app').pid as number;
  const nginxPid = start('nginx', ['-c', join(dir, 'nginx-proxy.conf'), '-p', dir], 'nginx').pid as number;
  const haproxyPid = start('haproxy', ['-f', join(dir, 'haproxy.cfg')], 'haproxy').pid as number;
  const grpc = existsSync(interopServer);
  const grpcPid = grpc ? start(interopServer, [`--port=${port('grpc')}`], 'interop-server').pid as number : NaN;
  const floorH2 = floor(port('app'), port('floorH2'));
  const floorGrpc = grpc ? floor(port('grpc'), port('floorGrpc')) : NaN;
  const h2Sidecar = sidecar(port('app'), port('sidecarH2'), port('adminH2'));
  const grpcSidecar = grpc ? sidecar(port('grpc'), port('sidecarGrpc'), port('adminGrpc')) : undefined;
  for (const name of ['app', 'nginxH2', 'haproxyH2', 'floorH2', ...(grpc ? ['grpc', 'nginxGrpc', 'haproxyGrpc', 'floorGrpc'] : [])]) await waitForPort(port(name));
  await waitForReady(port('adminH2'), { timeoutMs: 60_000 });
  if (grpcSidecar !== undefined) await waitForReady(port('adminGrpc'), { timeoutMs: 60_000 });

  const target = (name: string, path: string, pid: number): Target => ({ url: `http://127.0.0.1:${port(name)}${path}`, pid });
  const h2c = await rounds({
    direct: target('app', '/1k', appPid), nginx: target('nginxH2', '/1k', nginxPid), haproxy: target('haproxyH2', '/1k', haproxyPid),
    floor: target('floorH2', '/1k', floorH2), sidecar: target('sidecarH2', '/1k', h2Sidecar.pid()),
  }, []);
  const grpcArgs = ['-d', join(dir, 'empty.grpc'), '-H', 'content-type: application/grpc', '-H', 'te: trailers'];
  const unary = grpcSidecar === undefined ? undefined : await rounds({
    direct: target('grpc', GRPC_PATH, grpcPid), nginx: target('nginxGrpc', GRPC_PATH, nginxPid), haproxy: target('haproxyGrpc', GRPC_PATH, haproxyPid),
    floor: target('floorGrpc', GRPC_PATH, floorGrpc), sidecar: target('sidecarGrpc', GRPC_PATH, grpcSidecar.pid()),
  }, grpcArgs);

  const sidecarUrl = target('sidecarH2', '/1k', h2Sidecar.pid()).url;
  const idle = rssMiB(h2Sidecar.pid());
  const many = await h2load(sidecarUrl, [`-n${MANY_REQUESTS}`]);
  const afterMany = rssMiB(h2Sidecar.pid());
  // 1,000 streams at once: 10 connections × 100 streams, each held by the app's 1 KiB answer.
  let atThousand = 0;
  const sampler = setInterval(() => { atThousand = Math.max(atThousand, rssMiB(h2Sidecar.pid())); }, 250);
  const thousand = await h2load(sidecarUrl, ['-c10', '-m100', `-D${SECONDS * 2}`]);
  clearInterval(sampler);
  const grpcRss = grpcSidecar === undefined ? NaN : rssMiB(grpcSidecar.pid());

  const text = [
    '# Benchmark results: HTTP/2 (h2c) and gRPC unary', '',
    `${new Date().toISOString()} · ${cpus().length} × ${cpus()[0]?.model ?? '?'} · Node ${process.version} · ${toolVersion('nginx', ['-v'])} · ${toolVersion('haproxy', ['-v'])} · ${toolVersion('h2load', ['--version'])}${smoke ? ' · SMOKE RUN (harness check, not figures)' : ''}`, '',
    `h2load ${LOAD.join(' ')} (4 connections × 32 streams), ${ROUNDS} alternating rounds of ${SECONDS} s after a 1 s warm-up each, medians. The app: nginx \`listen … http2\` serving 1 KiB (h2c rows), grpc-go's interop server, EmptyCall (gRPC rows); direct is h2load against the app. nginx proxies with \`grpc_pass\` (its only HTTP/2 upstream), HAProxy with \`proto h2\` on both sides, the floor is a bare node:http2 proxy (bench/h2-floor-proxy.ts: one app session, streams piped, none of the sidecar's work), the sidecar runs with \`--app-protocol h2c\`, the policy's defaults (breaker volume threshold raised); the floor and the sidecar with the injected environment (\`NODE_OPTIONS=${sidecarNodeOptions}\`), as in RESULTS.md. CPU µs per request: user + system time of the row's process (direct: the app's; the proxies: their own, the app's not included) from the end of a round's warm-up to its end, divided by its requests; unlike req/s it hardly moves with the machine's load. The load average is the machine's (shared with other work) when each run started.`, '',
    ...table('h2c, GET 1 KiB', h2c),
    ...(unary === undefined ? ['### gRPC unary', '', 'Skipped: `.go-tools/interop-server` not built (`npm run go-tools`).', ''] : table('gRPC unary (EmptyCall)', unary)),
    '### Sidecar memory (h2c)', '',
    '| when | RSS MiB | load average |', '|---|---|---|',
    `| idle, after the rounds above | ${idle.toFixed(0)} | |`,
    `| after ${MANY_REQUESTS.toLocaleString('en')} more requests (${many.rps.toFixed(0)} req/s, ${many.failed} failed) | ${afterMany.toFixed(0)} | ${many.load.toFixed(1)} |`,
    `| highest while 1,000 streams were open (10 × 100, ${thousand.rps.toFixed(0)} req/s, ${thousand.failed} failed) | ${atThousand.toFixed(0)} | ${thousand.load.toFixed(1)} |`,
    ...(Number.isNaN(grpcRss) ? [] : [`| the gRPC sidecar after its rounds | ${grpcRss.toFixed(0)} | |`]),
    '',
  ];
  writeFileSync(outFile, `${text.join('\n')}\n`);
  process.stdout.write(`bench: wrote ${outFile}\n`);
}

await main();
process.exit(0);

/**
 * `npm run bench:http2`: h2c and gRPC unary through the sidecar (--app-protocol h2c) beside nginx
 * (`http2` listener, `grpc_pass`) and HAProxy (`proto h2` both sides) and direct, in one run with
 * alternating rounds, load by h2load (4 connections × 32 streams); then the sidecar's RSS after
 * 1,000,000 requests and at 1,000 concurrent streams. Written to bench/RESULTS-http2.md, each row
 * with the machine's load average beside it (the machine is shared: compare ratios of one run).
 * `--smoke` runs it very briefly (checks the harness, never speed).
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, median, percentile, rssMiB, start, stopAll, toolVersion, waitForPort } from './processes.ts';
import { injectedEnvironment, withDefaultOldSpaceCap } from './sidecar-environment.ts';
import { waitForReady } from '../tools/wait-for-ready.ts';

const smoke = process.argv.includes('--smoke');
const outIndex = process.argv.indexOf('--out');
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = outIndex > 0 ? (process.argv[outIndex + 1] as string) : join(root, 'bench', 'RESULTS-http2.md');
const cli = join(root, 'dist', 'cli', 'main.js');
const interopServer = join(root, '.go-tools', 'interop-server');
const ROUNDS = smoke ? 1 : 3;
const SECONDS = smoke ? 1 : 5;
const MANY_REQUESTS = smoke ? 10_000 : 1_000_000;
const LOAD = ['-c4', '-m32'];
/** gRPC's EmptyCall with an empty message: a 5-byte length-prefixed frame. */
const GRPC_PATH = '/grpc.testing.TestService/EmptyCall';

const dir = mkdtempSync(join(tmpdir(), 'badgateway-bench-h2-'));
chmodSync(dir, 0o755);
process.on('exit', () => {
  stopAll();
  rmSync(dir, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));

/** The sidecar runs with the environment the operator injects (heap settings), as in RESULTS.md. */
const { NODE_OPTIONS: injectedNodeOptions = '', ...sidecarEnvironment } = await injectedEnvironment(root);
const sidecarNodeOptions = await withDefaultOldSpaceCap(root, injectedNodeOptions);

interface H2loadResult { rps: number; p50: number; p99: number; requests: number; failed: number; load: number }

/** One h2load run; latencies from its per-request log, requests/s from its summary. */
async function h2load(url: string, args: string[]): Promise<H2loadResult> {
  const log = join(dir, 'h2load.log');
  rmSync(log, { force: true });
  const load = loadavg()[0] as number;
  const child = spawn('h2load', [...LOAD, ...args, `--log-file=${log}`, url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (data) => { output += String(data); });
  child.stderr.on('data', (data) => { output += String(data); });
  await new Promise((done) => child.on('close', done));
  const rps = Number(/finished in [^,]+, ([\d.]+) req\/s/.exec(output)?.[1] ?? NaN);
  const counts = /requests: (\d+) total, \d+ started, (\d+) done, \d+ succeeded, (\d+) failed/.exec(output);
  const durations = readFileSync(log, 'utf8').split('\n').map((line) => Number(line.split('\t')[2]) / 1000).filter((ms) => !Number.isNaN(ms));
  if (counts === null) throw new Error(`h2load gave no result for ${url}: ${output.slice(-500)}`);
  const [p50, p99] = durations.length === 0 ? [NaN, NaN] : [percentile(durations, 50), percentile(durations, 99)];
  return { rps, p50, p99, requests: Number(counts[1]), failed: Number(counts[3]), load };
}

function nginxConfig(ports: Record<string, number>): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx.error.log crit;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  http2_max_requests 1000000;
  http2_max_concurrent_streams 1024;
  upstream h2app { server 127.0.0.1:${ports.app}; keepalive 32; }
  upstream grpcapp { server 127.0.0.1:${ports.grpc}; keepalive 32; }
  server { listen 127.0.0.1:${ports.app} http2; root ${dir}/www; }
  server { listen 127.0.0.1:${ports.nginxH2} http2; location / { grpc_pass grpc://h2app; } }
  server { listen 127.0.0.1:${ports.nginxGrpc} http2; location / { grpc_pass grpc://grpcapp; } }
}
`;
}

function haproxyConfig(ports: Record<string, number>): string {
  return `global
  maxconn 8000
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend h2
  bind 127.0.0.1:${ports.haproxyH2} proto h2
  default_backend h2app
frontend grpc
  bind 127.0.0.1:${ports.haproxyGrpc} proto h2
  default_backend grpcapp
backend h2app
  server app 127.0.0.1:${ports.app} proto h2
backend grpcapp
  server app 127.0.0.1:${ports.grpc} proto h2
`;
}

function sidecar(upstreamPort: number, port: number, admin: number): { pid: () => number } {
  const file = join(dir, `sidecar-${port}.json`);
  writeFileSync(file, JSON.stringify({ circuitBreaker: { volumeThreshold: 1_000_000 } }));
  const child = start(process.execPath, [cli, 'sidecar', '--upstream', `http://127.0.0.1:${upstreamPort}`, '--app-protocol', 'h2c', '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${admin}`, '--config', file, '--log-level', 'warn'], `sidecar:${port}`, { ...sidecarEnvironment, NODE_OPTIONS: sidecarNodeOptions });
  return { pid: () => child.pid as number };
}

/** Alternating rounds over `targets`; the median of each. */
async function rounds(targets: Record<string, string>, args: string[]): Promise<Record<string, H2loadResult>> {
  const runs: Record<string, H2loadResult[]> = {};
  for (const url of Object.values(targets)) await h2load(url, [...args, '-D1']); // warm-up
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [name, url] of Object.entries(targets)) (runs[name] ??= []).push(await h2load(url, [...args, `-D${SECONDS}`, '--warm-up-time=1']));
  }
  return Object.fromEntries(Object.entries(runs).map(([name, list]) => [name, {
    rps: median(list.map((run) => run.rps)), p50: median(list.map((run) => run.p50)), p99: median(list.map((run) => run.p99)),
    requests: list.reduce((sum, run) => sum + run.requests, 0), failed: list.reduce((sum, run) => sum + run.failed, 0), load: median(list.map((run) => run.load)),
  }]));
}

function table(title: string, rows: Record<string, H2loadResult>): string[] {
  const haproxy = rows.haproxy;
  const nginx = rows.nginx;
  const sidecarRow = rows.sidecar;
  const lines = [`### ${title}`, '', '| target | req/s | p50 ms | p99 ms | failed | load average (1 min) |', '|---|---|---|---|---|---|'];
  for (const [name, row] of Object.entries(rows)) lines.push(`| ${name} | ${row.rps.toFixed(0)} | ${row.p50.toFixed(2)} | ${row.p99.toFixed(2)} | ${row.failed} of ${row.requests} | ${row.load.toFixed(1)} |`);
  if (haproxy !== undefined && nginx !== undefined && sidecarRow !== undefined) {
    lines.push('', `Sidecar ÷ HAProxy: ${(sidecarRow.rps / haproxy.rps).toFixed(2)}× req/s, ${(sidecarRow.p99 / haproxy.p99).toFixed(2)}× p99. Sidecar ÷ nginx \`grpc_pass\`: ${(sidecarRow.rps / nginx.rps).toFixed(2)}× req/s.`);
  }
  return [...lines, ''];
}

async function main(): Promise<void> {
  const ports: Record<string, number> = {};
  for (const name of ['app', 'grpc', 'nginxH2', 'nginxGrpc', 'haproxyH2', 'haproxyGrpc', 'sidecarH2', 'sidecarGrpc', 'adminH2', 'adminGrpc']) ports[name] = await freePort();
  mkdirSync(join(dir, 'www'));
  writeFileSync(join(dir, 'www', '1k'), 'x'.repeat(1024));
  writeFileSync(join(dir, 'empty.grpc'), Buffer.alloc(5));
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(ports));
  writeFileSync(join(dir, 'haproxy.cfg'), haproxyConfig(ports));
  start('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], 'nginx');
  start('haproxy', ['-f', join(dir, 'haproxy.cfg')], 'haproxy');
  const grpc = existsSync(interopServer);
  if (grpc) start(interopServer, [`--port=${ports.grpc}`], 'interop-server');
  const h2Sidecar = sidecar(ports.app as number, ports.sidecarH2 as number, ports.adminH2 as number);
  const grpcSidecar = grpc ? sidecar(ports.grpc as number, ports.sidecarGrpc as number, ports.adminGrpc as number) : undefined;
  for (const name of ['app', 'nginxH2', 'haproxyH2', ...(grpc ? ['grpc', 'nginxGrpc', 'haproxyGrpc'] : [])]) await waitForPort(ports[name] as number);
  await waitForReady(ports.adminH2 as number, { timeoutMs: 60_000 });
  if (grpc) await waitForReady(ports.adminGrpc as number, { timeoutMs: 60_000 });

  const url = (port: string, path: string): string => `http://127.0.0.1:${ports[port] as number}${path}`;
  const h2c = await rounds({ direct: url('app', '/1k'), nginx: url('nginxH2', '/1k'), haproxy: url('haproxyH2', '/1k'), sidecar: url('sidecarH2', '/1k') }, []);
  const grpcArgs = ['-d', join(dir, 'empty.grpc'), '-H', 'content-type: application/grpc', '-H', 'te: trailers'];
  const unary = grpc ? await rounds({ direct: url('grpc', GRPC_PATH), nginx: url('nginxGrpc', GRPC_PATH), haproxy: url('haproxyGrpc', GRPC_PATH), sidecar: url('sidecarGrpc', GRPC_PATH) }, grpcArgs) : undefined;

  const idle = rssMiB(h2Sidecar.pid());
  const many = await h2load(url('sidecarH2', '/1k'), [`-n${MANY_REQUESTS}`]);
  const afterMany = rssMiB(h2Sidecar.pid());
  // 1,000 streams at once: 10 connections × 100 streams, each held by the app's 1 KiB answer.
  let atThousand = 0;
  const sampler = setInterval(() => { atThousand = Math.max(atThousand, rssMiB(h2Sidecar.pid())); }, 250);
  const thousand = await h2load(url('sidecarH2', '/1k'), ['-c10', '-m100', `-D${SECONDS * 2}`]);
  clearInterval(sampler);
  const grpcRss = grpcSidecar === undefined ? NaN : rssMiB(grpcSidecar.pid());

  const text = [
    '# Benchmark results: HTTP/2 (h2c) and gRPC unary', '',
    `${new Date().toISOString()} · ${cpus().length} × ${cpus()[0]?.model ?? '?'} · Node ${process.version} · ${toolVersion('nginx', ['-v'])} · ${toolVersion('haproxy', ['-v'])} · ${toolVersion('h2load', ['--version'])}${smoke ? ' · SMOKE RUN (harness check, not figures)' : ''}`, '',
    `h2load ${LOAD.join(' ')} (4 connections × 32 streams), ${ROUNDS} alternating rounds of ${SECONDS} s after a 1 s warm-up each, medians. The app: nginx \`listen … http2\` serving 1 KiB (h2c rows), grpc-go's interop server, EmptyCall (gRPC rows). nginx proxies with \`grpc_pass\` (its only HTTP/2 upstream), HAProxy with \`proto h2\` on both sides, the sidecar with \`--app-protocol h2c\`, the policy's defaults (breaker volume threshold raised) and the injected environment (\`NODE_OPTIONS=${sidecarNodeOptions}\`), as in RESULTS.md. The load average is the machine's (shared with other work) when each run started.`, '',
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

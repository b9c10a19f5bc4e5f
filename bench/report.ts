/** Renders bench/RESULTS.md: tables, the ratios the README quotes, machine facts and commands. */
import type { OverloadResults } from './overload.ts';
import { renderOverload } from './overload-report.ts';
import { renderTargets } from './targets-report.ts';
import { FLOOR_LLHTTP, FLOOR_PIPE } from './floor.ts';

interface TargetStats { rps: number; p50: number; p99: number; errors: number; non2xx: number; /** CPU µs per request of the target's process(es). */ cpu: number; /** Each round's p99, in round order (healthy proxying). */ p99Rounds?: number[] }

/** Latency through a target at a fixed request rate, and what it adds to going direct (ms). */
interface FixedRateStats {
  p50: number; p99: number; addedP50: number; addedP99: number; requests: number; errors: number;
  /** CPU µs per request of the target's process at this rate (at a low rate each request runs alone, on cold caches). */
  cpu?: number;
}

interface AllocationFigures { requests: number; bytesPerRequest: number; cpuMicrosPerRequest: number; scavengesPer100k: number; markCompactsPer100k: number; gcMsPer100k: number }

/** The healthy-proxying reference target: node:http and undici with nothing else. */
export const NODE_UNDICI_PROXY = 'node:http + undici';

export interface Results {
  smoke: boolean;
  rounds: number;
  seconds: number;
  healthy: { connections: number; body: string; targets: Record<string, TargetStats> }[];
  fixedRate: { rate: number; targets: Record<string, FixedRateStats> }[];
  fastFailure: ({ name: string } & TargetStats)[];
  /** The same targets over one connection: per-request latency without queueing. */
  fastFailureUnsaturated: ({ name: string } & TargetStats)[];
  blackhole: { name: string; requests: number; waitedFullTimeout: number; p50: number; p99: number; statuses: Record<string, number> }[];
  overload?: OverloadResults;
  /** What one proxied 1 KiB request costs the sidecar's process (bench/alloc-measure.ts), closed loop over 64 connections. */
  allocation?: AllocationFigures;
  /** The same for Node's floors (bench/floor-proxy.ts), by row name. */
  floorAllocation?: Record<string, AllocationFigures>;
  /** MiB. idleAnon: private memory only (no mapped node binary); nodeBaseline: a bare node:http server, idle. */
  memory: { idle: number; idleAnon: number; loaded: number; nodeBaseline: number; /** Node's floor (net pipe) under the same 512 connections, sampled the same way. */ loadedFloor?: number };
  /** With the compile cache the image bakes in (tools/warm-compile-cache.ts). */
  readyMs: number;
  /** Without it (a sidecar running as a user other than the image's). */
  readyUncachedMs: number;
  /** A bare node:http server from spawn to listening: Node's own start-up floor. */
  nodeReadyMs: number;
  /** NODE_OPTIONS the sidecar ran with (as injected). */
  nodeOptions: string;
  /** The rest of the injected environment the sidecar ran with. */
  environment: Record<string, string>;
  /** The bench's own arguments, for "how it was run". */
  args: string[];
  machine: { cores: number; cpu: string; node: string; nginx: string; haproxy: string; wrk: string; date: string };
}

const n = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '—');

/** The sidecar against Node's floors, and the floors against nginx: which share of the gap is Node's own. */
function renderFloorRatios(results: Results): string[] {
  const rows = results.healthy.filter((row) => row.targets[FLOOR_PIPE] !== undefined && row.targets[FLOOR_LLHTTP] !== undefined);
  if (rows.length === 0) return [];
  const lines = ['', '| connections | body | floor/nginx req/s | floor/nginx CPU per request | framed floor/nginx CPU per request | sidecar/floor req/s | sidecar/floor CPU per request | sidecar/framed floor CPU per request |', '|---|---|---|---|---|---|---|---|'];
  for (const row of rows) {
    const { sidecar, nginx, [FLOOR_PIPE]: pipe, [FLOOR_LLHTTP]: framed } = row.targets;
    lines.push(`| ${row.connections} | ${row.body} | ${ratio(pipe!.rps, nginx!.rps)} | ${ratio(pipe!.cpu, nginx!.cpu)} | ${ratio(framed!.cpu, nginx!.cpu)} | ${ratio(sidecar!.rps, pipe!.rps)} | ${ratio(sidecar!.cpu, pipe!.cpu)} | ${ratio(sidecar!.cpu, framed!.cpu)} |`);
  }
  lines.push('', `\`${FLOOR_PIPE}\` is Node's floor for this load (bench/floor-proxy.ts): each client connection piped to an app connection of its own, bytes copied both ways as they come, no parsing, under the sidecar's Node, NODE_OPTIONS and heap growth. \`${FLOOR_LLHTTP}\` also frames both directions with the sidecar's own llhttp glue. What the floor costs beyond nginx is Node's (event loop, libuv, streams, syscalls, GC); what the sidecar costs beyond the floor is the sidecar's.`);
  return lines;
}

export function renderResults(results: Results): string {
  const lines: string[] = [];
  lines.push('# Benchmark results', '');
  if (results.smoke) lines.push('> **Smoke run** (about a second per measurement): it checks the harness; its numbers mean little.', '');
  lines.push(`${results.machine.date} · ${results.machine.cores} cores (${results.machine.cpu}) · Node ${results.machine.node} · ${results.machine.nginx} · ${results.machine.haproxy} · ${results.machine.wrk}`, '');
  lines.push('Everything runs on this one machine on loopback: the load generator, the upstream (nginx serving a static file) and the proxies share its cores, so absolute numbers are low and noisy; **ratios measured in the same run** are what to compare. ' +
    `Each figure is the median of ${results.rounds} alternating round(s) of ${results.seconds} s.`, '');

  if (!results.smoke) lines.push(...renderTargets(results));

  lines.push('## Healthy proxying', '', '| connections | body | target | req/s | p50 ms | p99 ms | CPU µs/request | socket errors | non-2xx |', '|---|---|---|---|---|---|---|---|---|');
  for (const row of results.healthy) {
    for (const [name, stats] of Object.entries(row.targets)) {
      lines.push(`| ${row.connections} | ${row.body} | ${name} | ${n(stats.rps)} | ${n(stats.p50, 2)} | ${n(stats.p99, 2)} | ${n(stats.cpu)} | ${stats.errors} | ${stats.non2xx} |`);
    }
  }
  lines.push('', 'CPU µs/request: user + system time of the target\'s own process (nginx: master and worker; for `direct`, the upstream nginx) from /proc/PID/stat before and after the run, over the requests it answered.');
  lines.push('', '| connections | body | sidecar/nginx req/s | sidecar/HAProxy req/s | sidecar/nginx p99 | sidecar/HAProxy p99 | sidecar/nginx CPU per request | node:http + undici/nginx req/s | sidecar/(node:http + undici) req/s |', '|---|---|---|---|---|---|---|---|---|');
  for (const row of results.healthy) {
    const t = row.targets;
    const bare = t[NODE_UNDICI_PROXY];
    lines.push(`| ${row.connections} | ${row.body} | ${ratio(t.sidecar!.rps, t.nginx!.rps)} | ${ratio(t.sidecar!.rps, t.haproxy!.rps)} | ${ratio(t.sidecar!.p99, t.nginx!.p99)} | ${ratio(t.sidecar!.p99, t.haproxy!.p99)} | ${ratio(t.sidecar!.cpu, t.nginx!.cpu)} | ${bare === undefined ? '—' : ratio(bare.rps, t.nginx!.rps)} | ${bare === undefined ? '—' : ratio(t.sidecar!.rps, bare.rps)} |`);
  }
  lines.push('', `\`${NODE_UNDICI_PROXY}\` is Node's ceiling for this: a node:http server in front of the same undici Pool, forwarding headers untouched, with none of the sidecar's work (breaker, timeouts, header rewriting, metrics, error pages, backpressure) and the sidecar's heap settings.`);
  lines.push(...renderFloorRatios(results));

  lines.push('', '## Added latency at a fixed request rate (1 KiB, open loop)', '',
    'h2load `--h1` at a fixed rate (100 req/s per connection, so each request goes out at its scheduled time); latency from h2load\'s per-request log; "added" is the target minus `direct` in the same round.', '',
    '| req/s | target | p50 ms | p99 ms | added p50 ms | added p99 ms | CPU µs per request | requests | non-200 |', '|---|---|---|---|---|---|---|---|---|');
  for (const row of results.fixedRate) {
    for (const [name, stats] of Object.entries(row.targets)) {
      lines.push(`| ${row.rate} | ${name} | ${n(stats.p50, 3)} | ${n(stats.p99, 3)} | ${name === 'direct' ? '—' : n(stats.addedP50, 3)} | ${name === 'direct' ? '—' : n(stats.addedP99, 3)} | ${n(stats.cpu ?? NaN)} | ${stats.requests} | ${stats.errors} |`);
    }
  }
  for (const row of results.fixedRate) {
    const sidecar = row.targets.sidecar;
    const nginx = row.targets.nginx;
    if (sidecar !== undefined && nginx !== undefined) lines.push('', `At ${row.rate} req/s the sidecar adds p99 **${n(sidecar.addedP99, 3)} ms**, nginx **${n(nginx.addedP99, 3)} ms**: **${ratio(sidecar.addedP99, nginx.addedP99)}**.`);
    const pipe = row.targets[FLOOR_PIPE];
    const framed = row.targets[FLOOR_LLHTTP];
    if (pipe !== undefined && framed !== undefined) lines.push('', `Node's floor at ${row.rate} req/s adds p99 **${n(pipe.addedP99, 3)} ms** as a net pipe, **${n(framed.addedP99, 3)} ms** framed by llhttp (p50 ${n(pipe.addedP50, 3)} and ${n(framed.addedP50, 3)} ms).`);
  }

  const allocation = results.allocation;
  if (allocation !== undefined) {
    lines.push('', '## Per proxied request, inside the sidecar and Node\'s floor (1 KiB, 64 connections)', '',
      `\`node bench/alloc.ts\`'s measurement: ${allocation.requests} requests by h2load (closed loop, after a warm-up) through each process with bench/alloc-probe.ts loaded; bytes allocated on V8's heap from V8's accounting around every collection (v8.GCProfiler), CPU time from process.cpuUsage(). Neither depends on the machine's load as latency does.`, '',
      '| process | bytes allocated | CPU µs | scavenges per 100k requests | mark-compacts per 100k | GC ms per 100k |', '|---|---|---|---|---|---|');
    for (const [name, figures] of [['sidecar', allocation] as const, ...Object.entries(results.floorAllocation ?? {})]) {
      lines.push(`| ${name} | ${n(figures.bytesPerRequest)} | ${n(figures.cpuMicrosPerRequest, 1)} | ${n(figures.scavengesPer100k)} | ${n(figures.markCompactsPer100k, 1)} | ${n(figures.gcMsPer100k)} |`);
    }
  }

  lines.push('', '## Fast failure (64 connections)', '', '| target | req/s | p50 ms | p99 ms | CPU µs/request |', '|---|---|---|---|---|');
  for (const row of results.fastFailure) lines.push(`| ${row.name} | ${n(row.rps)} | ${n(row.p50, 2)} | ${n(row.p99, 2)} | ${n(row.cpu)} |`);
  const [open, nginx, node, same] = results.fastFailure;
  if (open !== undefined && nginx !== undefined && node !== undefined && same !== undefined) {
    lines.push('', `Open circuit vs bare node:http static 502: **${ratio(open.rps, node.rps)}** req/s; vs nginx \`return 502\`: **${ratio(open.rps, nginx.rps)}**; vs a bare node:http server sending the sidecar's own 502 (the same headers and page): **${ratio(open.rps, same.rps)}**.`);
  }

  lines.push('', '## Fast failure, one connection (per-request latency, nothing queued)', '',
    'With 64 connections on a shared 2-core machine the p99 above is mostly waiting for a CPU; one connection shows what answering one request costs.', '',
    '| target | req/s | p50 ms | p99 ms |', '|---|---|---|---|');
  for (const row of results.fastFailureUnsaturated) lines.push(`| ${row.name} | ${n(row.rps)} | ${n(row.p50, 3)} | ${n(row.p99, 3)} |`);
  const [open1, nginx1, node1, same1] = results.fastFailureUnsaturated;
  if (open1 !== undefined && nginx1 !== undefined && node1 !== undefined && same1 !== undefined) {
    lines.push('', `Open circuit, one connection: p99 **${n(open1.p99, 3)} ms**; vs bare node:http static 502: **${ratio(open1.p99, node1.p99)}** p99, **${ratio(open1.rps, node1.rps)}** req/s; vs the sidecar's 502 bytes from a bare node:http server: **${ratio(open1.p99, same1.p99)}** p99, **${ratio(open1.rps, same1.rps)}** req/s; vs nginx \`return 502\`: **${ratio(open1.p99, nginx1.p99)}** p99.`);
  }

  lines.push('', '## Black-holed upstream (accepts TCP, never answers; 1 s response timeout everywhere; 16 concurrent clients)', '',
    '| proxy | requests | waited the full timeout | p50 time-to-answer ms | p99 ms | statuses |', '|---|---|---|---|---|---|');
  for (const row of results.blackhole) {
    lines.push(`| ${row.name} | ${row.requests} | ${row.waitedFullTimeout} | ${n(row.p50, 2)} | ${n(row.p99, 1)} | ${Object.entries(row.statuses).map(([code, count]) => `${code}×${count}`).join(' ')} |`);
  }
  lines.push('', 'Sidecar policy: `volumeThreshold: 10`, `resetTimeout: 5s`; nginx: `max_fails=1 fail_timeout=5s` (a single server is never marked down by nginx); HAProxy: `observe layer7 error-limit 10 on-error mark-down`.');

  if (results.overload !== undefined) lines.push(...renderOverload(results.overload));

  lines.push('', '## Sidecar footprint', '', '| measure | value |', '|---|---|');
  lines.push(
    `| RSS idle | ${n(results.memory.idle, 1)} MiB |`,
    `| of which private (RssAnon; the rest is the mapped node binary, shared and reclaimable) | ${n(results.memory.idleAnon, 1)} MiB |`,
    `| RSS under 512 connections | ${n(results.memory.loaded, 1)} MiB |`,
    `| for scale: Node's floor (net pipe) under the same 512 connections | ${n(results.memory.loadedFloor ?? NaN, 1)} MiB |`,
    `| start to ready (/readyz), with the image's compile cache | ${n(results.readyMs)} ms |`,
    `| start to ready without it (a sidecar running as another user than the image's) | ${n(results.readyUncachedMs)} ms |`,
    `| for scale: a bare \`node:http\` server, RSS idle | ${n(results.memory.nodeBaseline, 1)} MiB |`,
    `| for scale: a bare \`node:http\` server, spawn to listening | ${n(results.nodeReadyMs)} ms |`,
  );
  lines.push('', results.args.includes('--node-options')
    ? `Sidecar NODE_OPTIONS: ${results.nodeOptions === '' ? 'none' : `\`${results.nodeOptions}\``} (given with --node-options).`
    : `Sidecar NODE_OPTIONS: \`${results.nodeOptions}\` (what the operator injects, with the old-generation cap that \`--max-old-space-size-percentage\` gives for the default sidecar memory limit).`,
  `Rest of the injected environment: ${Object.entries(results.environment).map(([name, value]) => `\`${name}=${value}\``).join(', ') || 'none'}; start-up with the image's compile cache unless said otherwise.`,
  'The sidecar sets V8\'s old-generation growth itself once it is listening (`--heap-growing-percent`, which NODE_OPTIONS cannot carry; docs/performance.md, item 20).');

  lines.push('', '## How it was run', '', '```', ['npm run build && node bench/run.ts', ...results.args.map((arg) => (/^[\w./:=-]+$/.test(arg) ? arg : JSON.stringify(arg)))].join(' '),
    'wrk -t1 -c<connections> -d<seconds>s --timeout 5s -s json.lua http://127.0.0.1:<port>/<1k|100k>',
    'nginx: 1 worker, upstream keepalive 128; HAProxy: nbthread 1, http-reuse always',
    'wrk -t1 -c1 ... (fast failure, one connection)',
    'h2load --h1 -c<rate/100> --rps=100 -D<seconds> --warm-up-time=1 --log-file=<file> http://127.0.0.1:<port>/1k (fixed rate)',
    'h2load --h1 -c64 -n100000 http://127.0.0.1:<port>/1k (allocation and CPU per request: node bench/alloc.ts)',
    `sidecar: ${Object.entries(results.environment).map(([name, value]) => `${name}=${value} `).join('')}NODE_OPTIONS="${results.nodeOptions}" NODE_COMPILE_CACHE=<warmed> badgateway sidecar --log-level warn (one Node process)`, '```', '');
  return `${lines.join('\n')}\n`;
}

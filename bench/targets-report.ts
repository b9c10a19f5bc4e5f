/**
 * The data path's targets (issues 18 and 29), checked against one run's figures: each cell says met
 * or missed, and a missed one says what is known about why, so RESULTS.md never needs hand edits.
 */
import type { Results } from './report.ts';
import { NODE_UNDICI_PROXY } from './report.ts';
import { FLOOR_LLHTTP, FLOOR_PIPE } from './floor.ts';

interface TargetLine {
  target: string;
  measured: string;
  /** undefined: cannot be judged; null: reported, no target. */
  met: boolean | undefined | null;
  /** Shown when the target is missed (or cannot be judged). */
  why: string;
  /** The same measure for Node's floor (bench/floor-proxy.ts), beside the sidecar's: which share of the gap is Node's. */
  floor?: string;
}

const added = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(2)} ms`;
const x = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : '—');

const WHY = {
  cpu: 'Node\'s floor alone is close to the target: a bare net pipe costs 1.0–1.3× nginx\'s CPU per request and the same pipe framed by llhttp (the sidecar\'s framing) 1.5–1.6× in the full runs of 7 December (the floor column), so 1.7× leaves at most ~10 µs a request for everything the sidecar does beyond framing, which costs it ~20–25. A perf profile against the framed floor at the same load (`node bench/profile.ts --vs`, docs/performance.md, issue 29) puts the sidecar\'s own ~18 µs of JavaScript (plus ~5 µs of builtins) in some thirty functions, none above 1.7 µs a request: the heads, the exchange, breaker, limiter, metrics, request id. Each cut since (the heads as ranges, then as received bytes; the breaker, limiter and histogram per request; fewer objects) gained bytes, and CPU within the ±15–20 % a single run moves here. requests/s follow CPU on this 2-core machine, where wrk and the upstream nginx share the cores.',
  undici: 'The reference row is a bare `Pool.dispatch` passing raw headers, leaner than the probe\'s node:http + undici proxy the target was set against (0.24× nginx then; 0.4–0.55× here), so 2.4× it would mean about 1× nginx.',
  bigBodies: 'At 100 KiB most of the work is the kernel copying bytes through two sockets, for nginx as for the sidecar; the ratio moves by ±0.2× between runs on this 2-core machine, where wrk (one thread, ~400 MB/s) shares the cores with both proxies (a side-by-side A/B on the same day measured 1.08–1.15× at 64 connections).',
  p99: 'Every wrk connection is always busy, so p99 is queueing. At 512 connections the Node processes (the sidecar and the node:http + undici reference) show a tail of 0.6–3 s in some runs, nginx and HAProxy never; their medians are fine. It is Node\'s, not the data path\'s: a bare node:http server answering 1 KiB itself (no proxying, backlog 4096) shows the same 0.9–1.2 s p99 in about half of its 512-connection runs after a 20 s pause and 20–55 ms otherwise, with no SYN retransmission, drop or listen overflow counted by the kernel (docs/performance.md, "The 512-connection tail"). At 64 connections the sidecar\'s p99 is about 2× nginx\'s, as its requests/s are about half.',
  fixedRate: 'Node\'s floor framed by llhttp alone misses these targets in every full run (the floor column; on 7 December +3.9 and +8.1 ms at 1,000 req/s, 1.9× and 2.4× nginx\'s at 5,000, in two runs an hour apart): they are beyond any llhttp-framed Node proxy on this machine, where the Node processes\' fixed-rate p99 moves by 2× between runs while nginx\'s holds. At low rates the added latency is the CPU one request costs on cold caches, not a timer, deferral or Nagle (strace shows the floor\'s system calls, TCP_NODELAY is on every socket); young-generation scavenges add to the tail, and the sidecar allocates 9.1 → 2.4 KB a request since issue 29 began (the allocation row).',
  allocation: 'The llhttp-framed floor alone allocates about 1.6 KB a request (a Buffer, a Readable push and a \'data\' event per read, a write request and a nextTick per write, the heads\' bytes), the bare pipe about 1.5 KB; the sidecar\'s own ~750 bytes on top are its request\'s objects (the intake\'s verdict, the exchange and its end, the forwarded request, the response head), each under 200 bytes; docs/performance.md, issue 29, has each cut\'s A/B figures and the candidates left.',
  tail512: 'See the p99 rows: at 512 connections Node processes on this machine show an occasional tail of 0.6–3 s that nginx and HAProxy do not (docs/performance.md, "The 512-connection tail").',
  openCircuit: 'The open circuit runs at a bare node:http server\'s speed (the fast-failure table: 1.0–1.08× a node:http server sending the same 502 bytes); nginx\'s `return 502` is twice Node\'s floor on this machine.',
  oneConnection: 'Over one connection every target\'s p99 here is 0.3–0.7 ms, a bare node:http server\'s included, and the sidecar\'s p50 is 30–40 µs: the tail is the shared machine\'s scheduling more than the answer.',
  memory: 'Node\'s floor under the same 512 connections uses about 115 MiB (the floor column); the sidecar\'s ~25 MiB more are V8\'s heap pages and glibc\'s second malloc arena, not bytes held per connection (about 2.5 KB of ours each): `--liftoff-only`, MALLOC_ARENA_MAX=1 and a fixed mmap threshold all stayed within the ±7 MiB spread (docs/performance.md, issue 29). At 100 KiB about 50 MiB more are response bytes in flight on client sockets.',
};

type Cell = Results['healthy'][number]['targets'];

/** The floor's requests/s beside nginx's, and the sidecar's against the floor's. */
function throughputFloor(targets: Cell): string | undefined {
  const { sidecar, nginx, [FLOOR_PIPE]: pipe } = targets;
  if (sidecar === undefined || nginx === undefined || pipe === undefined) return undefined;
  return `floor ${x(pipe.rps / nginx.rps)} nginx; sidecar/floor ${x(sidecar.rps / pipe.rps)}`;
}

/** CPU per request: the floors', and the share of the sidecar's gap to nginx that the pipe floor already has. */
function cpuFloor(targets: Cell): string | undefined {
  const { sidecar, nginx, [FLOOR_PIPE]: pipe, [FLOOR_LLHTTP]: framed } = targets;
  if (sidecar === undefined || nginx === undefined || pipe === undefined) return undefined;
  const share = (pipe.cpu - nginx.cpu) / (sidecar.cpu - nginx.cpu);
  return `floor ${pipe.cpu.toFixed(0)} µs (${x(pipe.cpu / nginx.cpu)} nginx's)${framed === undefined ? '' : `, framed ${framed.cpu.toFixed(0)} µs`}; sidecar/floor ${x(sidecar.cpu / pipe.cpu)}; Node's share of the gap ${Number.isFinite(share) ? `${Math.round(share * 100)} %` : '—'}`;
}

export function renderTargets(results: Results): string[] {
  const cell = (connections: number, body: string) => results.healthy.find((row) => row.connections === connections && row.body === body)?.targets;
  const rows: TargetLine[] = [];
  const c64 = cell(64, '1k');
  if (c64?.sidecar !== undefined && c64.nginx !== undefined) {
    const vsNginx = c64.sidecar.rps / c64.nginx.rps;
    const reference = c64[NODE_UNDICI_PROXY];
    const vsUndici = reference === undefined ? NaN : c64.sidecar.rps / reference.rps;
    const cpu = c64.sidecar.cpu / c64.nginx.cpu;
    rows.push(
      { target: '64 connections, 1 KiB: ≥ 0.6× nginx req/s', measured: x(vsNginx), met: vsNginx >= 0.6, why: WHY.cpu, floor: throughputFloor(c64) },
      { target: '64 connections, 1 KiB: ≥ 2.4× the node:http + undici reference', measured: x(vsUndici), met: vsUndici >= 2.4, why: WHY.undici },
      { target: '64 connections, 1 KiB: CPU per request ≤ 1.7× nginx\'s', measured: `${x(cpu)} (${c64.sidecar.cpu.toFixed(0)} µs against ${c64.nginx.cpu.toFixed(0)})`, met: cpu <= 1.7, why: WHY.cpu, floor: cpuFloor(c64) },
    );
  }
  for (const [connections, body, goal] of [[64, '100k', 1.0], [512, '1k', 0.5], [512, '100k', 0.9]] as const) {
    const targets = cell(connections, body);
    if (targets?.sidecar === undefined || targets.nginx === undefined) continue;
    const value = targets.sidecar.rps / targets.nginx.rps;
    rows.push({ target: `${connections} connections, ${body === '1k' ? '1 KiB' : '100 KiB'}: ≥ ${goal.toFixed(1)}× nginx req/s`, measured: x(value), met: value >= goal, why: body === '1k' ? WHY.cpu : WHY.bigBodies, floor: throughputFloor(targets) });
  }
  for (const row of results.healthy) {
    const { sidecar, nginx } = row.targets;
    if (sidecar === undefined || nginx === undefined) continue;
    const value = sidecar.p99 / nginx.p99;
    const pipe = row.targets[FLOOR_PIPE];
    rows.push({ target: `p99 ≤ 2× nginx's: ${row.connections} connections, ${row.body === '1k' ? '1 KiB' : '100 KiB'}`, measured: `${x(value)} (${sidecar.p99.toFixed(1)} ms against ${nginx.p99.toFixed(1)})`, met: value <= 2, why: WHY.p99, ...(pipe === undefined ? {} : { floor: `floor ${pipe.p99.toFixed(1)} ms (${x(pipe.p99 / nginx.p99)} nginx's); sidecar/floor ${x(sidecar.p99 / pipe.p99)}` }) });
  }
  for (const row of results.healthy.filter((cell) => cell.connections === 512)) {
    const sidecarRounds = row.targets.sidecar?.p99Rounds ?? [];
    const nginxRounds = row.targets.nginx?.p99Rounds ?? [];
    if (sidecarRounds.length === 0 || sidecarRounds.length !== nginxRounds.length) continue;
    const worst = Math.max(...sidecarRounds.map((p99, round) => p99 / (nginxRounds[round] as number)));
    rows.push({ target: `512 connections, ${row.body === '1k' ? '1 KiB' : '100 KiB'}: p99 ≤ 2× nginx's in every round`, measured: `worst round ${x(worst)}`, met: worst <= 2, why: WHY.tail512 });
  }
  for (const row of results.fixedRate) {
    const sidecar = row.targets.sidecar;
    const nginx = row.targets.nginx;
    if (sidecar === undefined || nginx === undefined) continue;
    const pipe = row.targets[FLOOR_PIPE];
    const framed = row.targets[FLOOR_LLHTTP];
    const floor = pipe === undefined ? {} : { floor: `floor ${added(pipe.addedP99)}${framed === undefined ? '' : `, framed ${added(framed.addedP99)}`}; sidecar/floor ${x(sidecar.addedP99 / pipe.addedP99)}` };
    const at = row.rate === 6_400 ? '6,400 req/s (64 connections × 100 req/s)' : `${row.rate.toLocaleString('en-US')} req/s`;
    if (row.rate === 1_000) {
      // nginx's added p99 here is within the noise of going direct: the target is absolute.
      rows.push({ target: `added p99 at ${at} ≤ +0.6 ms`, measured: `${added(sidecar.addedP99)} (nginx ${added(nginx.addedP99)})`, met: sidecar.addedP99 <= 0.6, why: WHY.fixedRate, ...floor });
    } else {
      const comparable = nginx.addedP99 > 0;
      rows.push({
        target: `added p99 at ${at} ≤ 1.5× nginx's`,
        measured: `${added(sidecar.addedP99)} against nginx's ${added(nginx.addedP99)}${comparable ? ` (${x(sidecar.addedP99 / nginx.addedP99)})` : ''}`,
        met: comparable ? sidecar.addedP99 <= 1.5 * nginx.addedP99 : undefined,
        why: comparable ? WHY.fixedRate : 'nginx\'s added p99 is within the noise of going direct, so no ratio can be formed; the absolute figures are what there is.',
        ...floor,
      });
    }
    rows.push({ target: `added p50 at ${at} (reported)`, measured: `${added(sidecar.addedP50)} against nginx's ${added(nginx.addedP50)}`, met: null, why: '', ...(pipe === undefined ? {} : { floor: `floor ${added(pipe.addedP50)}; sidecar/floor ${x(sidecar.addedP50 / pipe.addedP50)}` }) });
  }
  if (results.allocation !== undefined) {
    const bytes = results.allocation.bytesPerRequest;
    const pipe = results.floorAllocation?.[FLOOR_PIPE];
    const framed = results.floorAllocation?.[FLOOR_LLHTTP];
    rows.push({
      target: 'allocation per proxied 1 KiB request ≤ 2 KiB', measured: `${bytes.toFixed(0)} bytes; ${results.allocation.scavengesPer100k.toFixed(0)} scavenges per 100k requests`, met: bytes <= 2048, why: WHY.allocation,
      ...(pipe === undefined ? {} : { floor: `floor ${pipe.bytesPerRequest.toFixed(0)} bytes${framed === undefined ? '' : `, framed ${framed.bytesPerRequest.toFixed(0)}`}; CPU µs per request: sidecar ${results.allocation.cpuMicrosPerRequest.toFixed(1)}, floor ${pipe.cpuMicrosPerRequest.toFixed(1)}${framed === undefined ? '' : `, framed ${framed.cpuMicrosPerRequest.toFixed(1)}`}` }),
    });
  }
  const open = results.fastFailure.find((row) => row.name === 'sidecar (circuit open)');
  const nginx502 = results.fastFailure.find((row) => row.name === 'nginx return 502');
  if (open !== undefined && nginx502 !== undefined) {
    const value = open.rps / nginx502.rps;
    rows.push({ target: 'open circuit: ≥ 0.5× nginx `return 502` req/s', measured: x(value), met: value >= 0.5, why: WHY.openCircuit });
  }
  const openOne = results.fastFailureUnsaturated.find((row) => row.name === 'sidecar (circuit open)');
  const nginxOne = results.fastFailureUnsaturated.find((row) => row.name === 'nginx return 502');
  if (openOne !== undefined) {
    rows.push({ target: 'open circuit, one connection: p99 < 0.5 ms', measured: `${openOne.p99.toFixed(3)} ms (nginx \`return 502\`: ${nginxOne?.p99.toFixed(3) ?? '—'} ms)`, met: openOne.p99 < 0.5, why: WHY.oneConnection });
  }
  if (Number.isFinite(results.memory.loaded)) {
    const floor = results.memory.loadedFloor;
    rows.push({ target: 'RSS under 512 connections ≤ 120 MiB', measured: `${results.memory.loaded.toFixed(1)} MiB`, met: results.memory.loaded <= 120, why: WHY.memory, ...(floor === undefined || !Number.isFinite(floor) ? {} : { floor: `floor ${floor.toFixed(1)} MiB; sidecar − floor ${(results.memory.loaded - floor).toFixed(1)} MiB` }) });
  }
  rows.push({
    target: 'idle RSS no worse than before the data path (67.5 MiB, 22.5 private)',
    measured: `${results.memory.idle.toFixed(1)} MiB, ${results.memory.idleAnon.toFixed(1)} private`,
    met: results.memory.idle <= 67.5 && results.memory.idleAnon <= 22.5,
    why: 'Run-to-run spread of idle RSS is about ±2 MiB.',
  });

  const lines = ['## Data-path targets (issues 18 and 29)', '', 'Checked against this run\'s figures; a missed target says what is known about why. The last column puts Node\'s floor beside the sidecar (`' + FLOOR_PIPE + '`, and framed: `' + FLOOR_LLHTTP + '`; bench/floor-proxy.ts): what of the gap to nginx any Node proxy of this load has, and what is the sidecar\'s own.', '', '| target | measured | | against Node\'s floor |', '|---|---|---|---|'];
  for (const row of rows) lines.push(`| ${row.target} | ${row.measured} | ${row.met === null ? 'reported' : row.met === undefined ? 'not comparable' : row.met ? 'met' : 'missed'} | ${row.floor ?? ''} |`);
  const missed = rows.filter((row) => row.met !== true && row.met !== null);
  if (missed.length > 0) {
    lines.push('', 'Why:', '');
    const reasons = new Map<string, string[]>();
    for (const row of missed) reasons.set(row.why, [...(reasons.get(row.why) ?? []), row.target]);
    for (const [why, targets] of reasons) lines.push(`- ${targets.join('; ')}: ${why}`);
  }
  lines.push('');
  return lines;
}

/**
 * The overload scenario of `npm run bench`: an app whose latency grows with its concurrency
 * (sidecar/demo/load-latency.ts), offered 1×, 2× and 4× the requests per second it can serve
 * (open loop), 32× its capacity in closed-loop clients, and 2× while another process keeps one
 * core busy; through the sidecar with the limiter's defaults, with the queue as it was before
 * controlled delay (FIFO up to the long timeout), without a queue and without the limiter, HAProxy
 * with a static maxconn and queue set to the app's capacity, and nginx. Goodput, latency of the
 * 2xx, share shed, and time to recover once the load stops.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { start, waitForPort } from './processes.ts';
import { waitForReady } from '../tools/wait-for-ready.ts';

export const OVERLOAD_MODEL = { capacity: 8, serviceMs: 50, degradation: 0.25 };
/** A user gives up on a request after this long (and its connection closes). */
export const CLIENT_TIMEOUT_MS = 2_000;
/** Open-loop arrivals as multiples of capacity; `closed` clients per capacity slot; `busyCore` 2× with a core taken. */
export const SCENARIOS = [
  { label: '1×', rate: 1 }, { label: '2×', rate: 2 }, { label: '4×', rate: 4 },
  { label: '32× closed', closed: 32 },
  { label: '2× + busy core', rate: 2, busyCore: true },
] as const;
const RECOVERY_LIMIT_MS = 5_000;

export interface OverloadRow {
  target: string;
  /** The scenario's label, e.g. `4×` or `32× closed`. */
  load: string;
  /** Requests per second offered (NaN for closed loops). */
  rate: number;
  /** 2xx per second. */
  goodput: number;
  p50: number;
  p99: number;
  /** Share of the requests sent that got a 503. */
  shedShare: number;
  /** Share of the requests sent that the client abandoned after CLIENT_TIMEOUT_MS. */
  timedOutShare: number;
  /** Other statuses, socket errors, and requests not sent for the socket bound. */
  otherErrors: number;
  /** After the load stops: until a probe gets a 2xx within the unloaded p99. */
  recoverMs: number;
}

export interface OverloadResults {
  model: typeof OVERLOAD_MODEL;
  seconds: number;
  /** 2xx/s with `capacity` closed-loop clients straight at the app: what it serves at best here. */
  capacityRps: number;
  /** p99 (ms) with one client, per target. */
  unloadedP99: Record<string, number>;
  rows: OverloadRow[];
  configs: Record<string, string>;
  /**
   * The machine's 1-minute load average at the start and the end, and its cores: other work shares
   * it. Absent from results saved before it was recorded.
   */
  machine?: { cores: number; loadBefore: number; loadAfter: number };
}

export interface OverloadContext {
  smoke: boolean;
  seconds: number;
  dir: string;
  root: string;
  nextPort: () => number;
  sidecar: (upstreamPort: number, config: object) => { port: number; admin: number };
}

interface LoadResult { seconds: number; sent: number; ok: number; shed: number; otherStatus: number; timedOut: number; errors: number; notSent: number; p50: number; p99: number }

/** `rate` requests per second (open loop), or `closed:N` clients. */
function load(root: string, url: string, rate: number | string, seconds: number): Promise<LoadResult> {
  const child = spawn(process.execPath, [join(root, 'bench', 'overload-load.ts'), url, String(rate), String(seconds), String(CLIENT_TIMEOUT_MS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data) => { stdout += String(data); });
  child.stderr.on('data', (data) => { stderr += String(data); });
  return new Promise((resolve, reject) => {
    child.on('close', () => {
      const line = stdout.split('\n').find((text) => text.startsWith('{'));
      if (line === undefined) reject(new Error(`overload load gave no result for ${url}: ${stderr}`));
      else resolve(JSON.parse(line) as LoadResult);
    });
  });
}

/** Probes every 10 ms until a 2xx arrives within `withinMs`; the time that took. */
async function timeToRecover(url: string, withinMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < RECOVERY_LIMIT_MS) {
    const sent = performance.now();
    try {
      const response = await request(url, { reset: true });
      await response.body.dump();
      if (response.statusCode === 200 && performance.now() - sent <= withinMs) return performance.now() - started;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Infinity;
}

function haproxyOverloadConfig(dir: string, port: number, appPort: number): string {
  return `global
  nbthread 1
  maxconn 8000
  pidfile ${dir}/haproxy-overload.pid
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout queue 250ms
  option http-keep-alive
frontend overload
  bind 127.0.0.1:${port}
  default_backend app
backend app
  http-reuse always
  server app 127.0.0.1:${appPort} maxconn ${OVERLOAD_MODEL.capacity} maxqueue 100
`;
}

function nginxOverloadConfig(dir: string, port: number, appPort: number): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx-overload.pid;
error_log ${dir}/nginx-overload.error.log crit;
events { worker_connections 8192; }
http {
  access_log off;
  keepalive_requests 1000000;
  upstream app { server 127.0.0.1:${appPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
`;
}

export const SIDECAR_LIMITED = 'sidecar, overload enforce (adaptive, default queue)';
export const SIDECAR_FIFO = 'sidecar, overload enforce (adaptive, FIFO queue without controlled delay)';
export const SIDECAR_NO_QUEUE = 'sidecar, overload enforce (adaptive, queue.size 0)';
export const SIDECAR_OFF = 'sidecar, overload off';
export const HAPROXY_QUEUE = `haproxy (maxconn ${OVERLOAD_MODEL.capacity}, maxqueue 100, timeout queue 250ms)`;

/** Keeps one core busy until killed: the machine shared with other work. */
function busyCore(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
}

export async function runOverload(context: OverloadContext): Promise<OverloadResults> {
  const { dir, root, seconds } = context;
  const loadBefore = loadavg()[0] as number;
  const appPort = context.nextPort();
  start(process.execPath, [join(root, 'bench', 'overload-app.ts'), String(appPort), String(OVERLOAD_MODEL.capacity), String(OVERLOAD_MODEL.serviceMs), String(OVERLOAD_MODEL.degradation)], 'overload-app');
  const haproxyPort = context.nextPort();
  const nginxPort = context.nextPort();
  writeFileSync(join(dir, 'haproxy-overload.cfg'), haproxyOverloadConfig(dir, haproxyPort, appPort));
  writeFileSync(join(dir, 'nginx-overload.conf'), nginxOverloadConfig(dir, nginxPort, appPort));
  start('haproxy', ['-f', join(dir, 'haproxy-overload.cfg')], 'haproxy-overload');
  start('nginx', ['-c', join(dir, 'nginx-overload.conf'), '-p', dir], 'nginx-overload');
  const limitedConfig = { overload: { mode: 'enforce' } };
  const fifoConfig = { overload: { mode: 'enforce', queue: { target: '250ms', order: 'fifo' } } };
  const noQueueConfig = { overload: { mode: 'enforce', queue: { size: 0 } } };
  const limited = context.sidecar(appPort, limitedConfig);
  const fifo = context.sidecar(appPort, fifoConfig);
  const noQueue = context.sidecar(appPort, noQueueConfig);
  const off = context.sidecar(appPort, {});
  for (const port of [appPort, haproxyPort, nginxPort]) await waitForPort(port);
  for (const s of [limited, fifo, noQueue, off]) await waitForReady(s.admin);

  const targets: Record<string, number> = {
    direct: appPort,
    [SIDECAR_LIMITED]: limited.port,
    // The comparison of queue disciplines is for real runs; the smoke run checks the harness only.
    ...(context.smoke ? {} : { [SIDECAR_FIFO]: fifo.port }),
    [SIDECAR_NO_QUEUE]: noQueue.port,
    [SIDECAR_OFF]: off.port,
    [HAPROXY_QUEUE]: haproxyPort,
    nginx: nginxPort,
  };
  const url = (port: number) => `http://127.0.0.1:${port}/`;
  // Warm-up (JIT, pools, the adaptive limit's first minRTT), then the unloaded p99; the smoke run skips both.
  const unloadedP99: Record<string, number> = {};
  for (const [name, port] of Object.entries(targets)) {
    if (context.smoke) continue;
    await load(root, url(port), 'closed:1', 2);
    unloadedP99[name] = (await load(root, url(port), 'closed:1', 2)).p99;
  }

  const capacityRps = (await load(root, url(appPort), `closed:${OVERLOAD_MODEL.capacity}`, seconds)).ok / seconds;
  const theoretical = (OVERLOAD_MODEL.capacity * 1000) / OVERLOAD_MODEL.serviceMs;
  const rows: OverloadRow[] = [];
  const scenarios = SCENARIOS.filter((scenario) => !context.smoke || scenario.label === '4×');
  for (const scenario of scenarios) {
    const rate = 'rate' in scenario ? theoretical * scenario.rate : NaN;
    const offered = 'closed' in scenario ? `closed:${scenario.closed * OVERLOAD_MODEL.capacity}` : rate;
    for (const [name, port] of Object.entries(targets)) {
      const busy = 'busyCore' in scenario ? busyCore() : undefined;
      let result: LoadResult;
      try {
        result = await load(root, url(port), offered, seconds);
      } finally {
        busy?.kill('SIGKILL');
      }
      const recoverMs = context.smoke ? NaN : await timeToRecover(url(port), unloadedP99[name] as number);
      const share = (count: number) => (result.sent === 0 ? NaN : count / result.sent);
      rows.push({
        target: name, load: scenario.label, rate, goodput: result.ok / result.seconds, p50: result.p50, p99: result.p99,
        shedShare: share(result.shed), timedOutShare: share(result.timedOut), otherErrors: result.otherStatus + result.errors + result.notSent, recoverMs,
      });
    }
  }
  return {
    model: OVERLOAD_MODEL, seconds, capacityRps, unloadedP99, rows,
    machine: { cores: cpus().length, loadBefore, loadAfter: loadavg()[0] as number },
    configs: { [SIDECAR_LIMITED]: JSON.stringify(limitedConfig), [SIDECAR_FIFO]: JSON.stringify(fifoConfig), [SIDECAR_NO_QUEUE]: JSON.stringify(noQueueConfig), [SIDECAR_OFF]: '{}' },
  };
}

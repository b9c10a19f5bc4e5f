/** Child processes, ports and load generators for the benchmark. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, connect } from 'node:net';
import { request, Agent } from 'undici';

const children: ChildProcess[] = [];
/** SIGKILL to nginx's master orphans its workers, which go on serving (and spinning) after the run. */
const STOP_SIGNAL: Readonly<Record<string, NodeJS.Signals>> = { nginx: 'SIGTERM' };
const stopSignals = new Map<ChildProcess, NodeJS.Signals>();

export function start(command: string, args: string[], name: string, env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let stderr = '';
  child.stderr?.on('data', (data) => { stderr += String(data); });
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal === null && !stopping) process.stderr.write(`${name} exited with ${code}: ${stderr.slice(-500)}\n`);
  });
  children.push(child);
  stopSignals.set(child, STOP_SIGNAL[command] ?? 'SIGKILL');
  return child;
}

/**
 * A scratch folder for one bench run, removed with every process started here when the run exits.
 * nginx workers run as nobody when started as root: a 0700 folder would make every request a 403.
 */
export function runDirectory(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  process.on('exit', () => {
    stopAll();
    rmSync(dir, { recursive: true, force: true });
  });
  process.on('SIGINT', () => process.exit(130));
  return dir;
}

let stopping = false;
export function stopAll(): void {
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(stopSignals.get(child));
}

/**
 * Ports below the kernel's ephemeral range: a port taken with listen(0) and released comes from
 * that range, where the next outgoing connection on the machine (another test's load, say) may take
 * it before nginx or HAProxy binds it.
 */
const EPHEMERAL_LOW = Number(readFileSyncOrEmpty('/proc/sys/net/ipv4/ip_local_port_range').trim().split(/\s+/)[0]) || 32768;
const handedOut = new Set<number>();

function readFileSyncOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const low = Math.min(20_000, EPHEMERAL_LOW - 1_000);
  for (let attempt = 0; attempt < 1_000; attempt += 1) {
    const port = low + Math.floor(Math.random() * (EPHEMERAL_LOW - low));
    if (handedOut.has(port) || !(await canListen(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error(`no free port between ${low} and ${EPHEMERAL_LOW}`);
}

export async function waitForPort(port: number, timeoutMs = 10_000, pollMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export interface WrkResult {
  requests: number;
  seconds: number;
  errors: number;
  non2xx: number;
  p50: number;
  p99: number;
  max: number;
  rps: number;
}

/** The exact wrk command line, for RESULTS.md. */
export function wrkArgs(url: string, connections: number, seconds: number, script: string): string[] {
  return ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '-s', script, url];
}

export async function wrk(url: string, connections: number, seconds: number, script: string): Promise<WrkResult> {
  const child = spawn('wrk', wrkArgs(url, connections, seconds, script), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data) => { stdout += String(data); });
  child.stderr.on('data', (data) => { stderr += String(data); });
  await new Promise((resolve) => child.on('close', resolve));
  const line = stdout.split('\n').find((text) => text.startsWith('{"requests"'));
  if (line === undefined) throw new Error(`wrk gave no result for ${url}: ${stderr}${stdout}`);
  const parsed = JSON.parse(line) as Omit<WrkResult, 'rps'>;
  return { ...parsed, rps: parsed.requests / parsed.seconds };
}

/** Resident memory of a process: all of it (VmRSS), or only its private part (RssAnon, without mapped files such as the node binary). */
export function rssMiB(pid: number, field: 'VmRSS' | 'RssAnon' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
  return match === null ? NaN : Number(match[1]) / 1024;
}

/** Keeps `concurrency` requests in flight for `seconds`; returns each request's time to answer (ms). */
export async function timeToAnswer(url: string, concurrency: number, seconds: number): Promise<{ durations: number[]; statuses: Map<number, number> }> {
  const agent = new Agent({ connections: concurrency, headersTimeout: 60_000 });
  const durations: number[] = [];
  const statuses = new Map<number, number>();
  const deadline = Date.now() + seconds * 1000;
  const loop = async () => {
    while (Date.now() < deadline) {
      const started = performance.now();
      try {
        const response = await request(url, { dispatcher: agent });
        await response.body.dump();
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      } catch {
        statuses.set(0, (statuses.get(0) ?? 0) + 1);
      }
      durations.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  await agent.close();
  return { durations, statuses };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

export function toolVersion(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`.split('\n')[0]?.trim() ?? '?';
}

const CLOCK_TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** [pid, ppid, user+system ticks] of every process, from /proc/PID/stat. */
function processTable(): [number, number, number][] {
  const table: [number, number, number][] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readFileSyncOrEmpty(`/proc/${entry}/stat`);
    // The command name (field 2) may contain spaces and parentheses: split after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields.length < 13) continue;
    table.push([Number(entry), Number(fields[1]), Number(fields[11]) + Number(fields[12])]);
  }
  return table;
}

/** CPU time (user + system, µs) used so far by `pid` and its descendants (nginx's workers). */
export function cpuMicros(pid: number): number {
  const table = processTable();
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [child, parent] of table) {
      if (tree.has(parent) && !tree.has(child)) {
        tree.add(child);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const [entry, , used] of table) if (tree.has(entry)) ticks += used;
  return (ticks * 1_000_000) / CLOCK_TICKS_PER_SECOND;
}

export interface FixedRateResult {
  rate: number;
  requests: number;
  errors: number;
  p50: number;
  p99: number;
}

/** The exact h2load command line, for RESULTS.md. */
export function h2loadArgs(url: string, rate: number, seconds: number, logFile: string): string[] {
  const clients = Math.max(1, Math.round(rate / 100));
  return ['--h1', `-c${clients}`, `--rps=${rate / clients}`, `-D${seconds}`, '--warm-up-time=1', `--log-file=${logFile}`, url];
}

/**
 * Open-loop load at a fixed request rate with h2load (`--rps` per client, 100 req/s per client:
 * each client waits ~10 ms between requests, far longer than a response takes, so requests go out
 * at their scheduled times); latencies in ms from h2load's per-request log.
 */
export async function fixedRate(url: string, rate: number, seconds: number, logFile: string): Promise<FixedRateResult> {
  const child = spawn('h2load', h2loadArgs(url, rate, seconds, logFile), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (data) => { output += String(data); });
  child.stderr.on('data', (data) => { output += String(data); });
  await new Promise((resolve) => child.on('close', resolve));
  const durations: number[] = [];
  let errors = 0;
  for (const line of readFileSyncOrEmpty(logFile).split('\n')) {
    const [, status, micros] = line.split('\t');
    if (status === undefined || micros === undefined) continue;
    if (status !== '200') errors += 1;
    durations.push(Number(micros) / 1000);
  }
  if (durations.length === 0) throw new Error(`h2load gave no result for ${url}: ${output.slice(-500)}`);
  return { rate, requests: durations.length, errors, p50: percentile(durations, 50), p99: percentile(durations, 99) };
}

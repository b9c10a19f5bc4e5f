/**
 * The soak: the built sidecar (`dist/cli/main.js sidecar`, its own process) between hostile clients
 * and a misbehaving app, on loopback, for a bounded time. Afterwards the process must be alive,
 * its file descriptors back at the baseline and its heap, after a forced full GC, back near the
 * baseline. Used by test/reliability/sidecar-soak.test.ts (short) and `npm run soak` (long).
 *
 * Imports use .ts extensions so this runs under plain `node` as well as under Jest.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { heapUsedAfterGc, inspectorUrl } from '../inspector-gc.ts';
import { CLIENT_SCRIPTS, playClient } from './hostile-clients.ts';
import { MisbehavingApp } from './misbehaving-app.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = join(root, 'dist', 'cli', 'main.js');
export const FD_SLACK = 16;
export const HEAP_SLACK_BYTES = 16 * 1024 * 1024;

export interface SoakOptions {
  seconds: number;
  /** Client connections in flight at once. */
  concurrency?: number;
  log?: (line: string) => void;
}

export interface SoakResult {
  seconds: number;
  clientConnections: number;
  appRequests: number;
  /** How client connections ended, per script: first status code, "empty", "reset", "timeout", "client-reset". */
  endings: Record<string, Record<string, number>>;
  exitCode: number | null;
  baselineFds: number;
  peakFds: number;
  fdsAfter: number;
  baselineHeapBytes: number;
  heapAfterBytes: number;
  peakRssBytes: number;
  /** The sidecar still answers a request with a status line after the soak. */
  answersAfter: boolean;
}

const POLICY = {
  timeouts: { connect: '1s', response: '1s', idle: '1s', requestBodyIdle: '500ms', responseBodyIdle: '500ms' },
  circuitBreaker: { volumeThreshold: 20, rollingWindow: '2s', resetTimeout: '2s' },
};

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}

const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return true;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}

async function startSidecar(appPort: number, config: string): Promise<{ child: ChildProcess; proxyPort: number; inspector: string }> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);
  const proxyPort = await freePort();
  const adminPort = await freePort();
  const child = spawn(process.execPath, [CLI, 'sidecar', '--upstream', `http://127.0.0.1:${appPort}`, '--listen', `127.0.0.1:${proxyPort}`,
    '--admin', `127.0.0.1:${adminPort}`, '--config', config, '--log-level', 'error'],
  { env: { ...process.env, NODE_OPTIONS: '--inspect=127.0.0.1:0' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (data) => { output += String(data); });
  child.stderr?.on('data', (data) => { output += String(data); });
  const ready = await until(async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status === 200, 20_000);
  const inspector = inspectorUrl(output);
  if (!ready || inspector === undefined) {
    child.kill('SIGKILL');
    throw new Error(`the sidecar did not start: ${output.slice(0, 1_000)}`);
  }
  return { child, proxyPort, inspector };
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => undefined);
  const concurrency = options.concurrency ?? 32;
  const app = await new MisbehavingApp().start();
  const directory = await mkdtemp(join(tmpdir(), 'bgw-soak-'));
  const config = join(directory, 'policy.json');
  await writeFile(config, JSON.stringify(POLICY));
  const { child, proxyPort, inspector } = await startSidecar(app.port, config);
  const pid = child.pid ?? 0;
  try {
    // Warm-up: every script once, so lazily built things are in the baseline.
    for (const script of CLIENT_SCRIPTS) await playClient(proxyPort, script);
    await sleep(6_000); // the app's stalls end within 5 s
    const baselineFds = openFds(pid);
    const baselineHeapBytes = await heapUsedAfterGc(inspector);
    log(`baseline: ${baselineFds} fds, heap ${(baselineHeapBytes / 1e6).toFixed(1)} MB after GC`);

    const endings: Record<string, Record<string, number>> = {};
    let clientConnections = 0;
    let peakFds = baselineFds;
    let peakRssBytes = 0;
    const sampler = setInterval(() => {
      if (child.exitCode !== null) return;
      peakFds = Math.max(peakFds, openFds(pid));
      peakRssBytes = Math.max(peakRssBytes, rssBytes(pid));
    }, 500);
    sampler.unref();
    const progress = setInterval(() => log(`${clientConnections} client connections, ${app.requests} app requests, fds ${openFds(pid)}`), 30_000);
    progress.unref();
    const deadline = Date.now() + options.seconds * 1_000;
    const worker = async (offset: number) => {
      for (let turn = offset; Date.now() < deadline && child.exitCode === null; turn += concurrency) {
        const script = CLIENT_SCRIPTS[turn % CLIENT_SCRIPTS.length]!;
        const ending = await playClient(proxyPort, script);
        clientConnections += 1;
        const byEnding = (endings[script.name] ??= {});
        byEnding[ending] = (byEnding[ending] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, offset) => worker(offset)));
    clearInterval(sampler);
    clearInterval(progress);

    await until(() => child.exitCode !== null || openFds(pid) <= baselineFds + FD_SLACK, 30_000);
    const exitCode = child.exitCode;
    const fdsAfter = exitCode === null ? openFds(pid) : -1;
    const heapAfterBytes = exitCode === null ? await heapUsedAfterGc(inspector) : -1;
    const answersAfter = exitCode === null && /^\d{3}$/.test(await playClient(proxyPort, CLIENT_SCRIPTS[0]!));
    return {
      seconds: options.seconds, clientConnections, appRequests: app.requests, endings, exitCode,
      baselineFds, peakFds, fdsAfter, baselineHeapBytes, heapAfterBytes, peakRssBytes, answersAfter,
    };
  } finally {
    child.kill('SIGKILL');
    await app.close();
    await rm(directory, { recursive: true, force: true });
  }
}

/** What went wrong in a soak, empty when nothing did. */
export function soakProblems(result: SoakResult): string[] {
  const problems: string[] = [];
  if (result.exitCode !== null) problems.push(`the sidecar exited with ${result.exitCode}`);
  if (result.fdsAfter > result.baselineFds + FD_SLACK) problems.push(`fds ${result.fdsAfter} after the soak, baseline ${result.baselineFds}`);
  if (result.heapAfterBytes > result.baselineHeapBytes + HEAP_SLACK_BYTES) problems.push(`heap ${result.heapAfterBytes} after GC, baseline ${result.baselineHeapBytes}`);
  if (!result.answersAfter) problems.push('the sidecar did not answer a request after the soak');
  if (result.clientConnections === 0) problems.push('no client connection was played');
  return problems;
}

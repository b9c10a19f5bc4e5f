/**
 * The adaptive limit measures the app, not the sidecar: the app runs in its own process, and the
 * sidecar's event loop is kept busy (a timer that spins 15 of every 20 ms, as a CPU-starved or
 * overworked sidecar would be), which delays every response the sidecar reads. The limit must
 * hold near the app's capacity instead of falling to minLimit (3), as it did when the sidecar
 * took its own delay for the app's. No retries: the runs that once failed on a loaded machine had
 * measured the first minRTT as 0 (its samples corrected by an estimate larger than themselves,
 * with no floor yet), which the limiter no longer does (limiter.test.ts); a loaded machine now
 * measures minRTT high, never low.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { eventually } from '../support/cli.js';
import { sidecarFixtures } from '../support/sidecar-harness.js';

const fixtures = sidecarFixtures();
const root = join(import.meta.dirname, '..', '..');
/** 8 in parallel at 5 ms: a fast app, so the sidecar's own lag is large beside its latency. */
const CAPACITY = 8;
const SERVICE_MS = 5;
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The bench's app model in its own process, so the busy loop below does not slow the app itself. */
async function appInOwnProcess(): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(root, 'bench', 'overload-app.ts'), String(port), String(CAPACITY), String(SERVICE_MS), '0.25'], { stdio: 'ignore' });
  children.push(child);
  const url = `http://127.0.0.1:${port}/`;
  await eventually(async () => {
    try {
      await (await request(url)).body.dump();
      return true;
    } catch {
      return false;
    }
  }, 10_000, 'the app process listening');
  return url;
}

/** `clients` closed-loop clients for `ms`; 2xx answers counted. */
async function closedLoop(url: string, clients: number, ms: number): Promise<number> {
  const agent = new Agent({ connections: clients });
  const endAt = performance.now() + ms;
  let ok = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (performance.now() < endAt) {
      const response = await request(url, { dispatcher: agent });
      await response.body.dump();
      if (response.statusCode === 200) ok += 1;
      else await new Promise((resolve) => setTimeout(resolve, 5)); // a shed client backs off a little
    }
  }));
  await agent.close();
  return ok;
}

/** Keeps this process's event loop busy for `busyMs` of every `periodMs`. */
function busyLoop(busyMs: number, periodMs: number): () => void {
  const timer = setInterval(() => {
    const until = performance.now() + busyMs;
    while (performance.now() < until) { /* spin */ }
  }, periodMs);
  return () => clearInterval(timer);
}

describe('overload: a busy sidecar does not talk itself into a tiny limit', () => {
  it('keeps the adaptive limit near the app capacity while its own event loop lags', async () => {
    const app = await appInOwnProcess();
    const sidecar = await fixtures.sidecar(app, { overload: { mode: 'enforce' } });
    // The first minRTT, measured on a quiet loop (at minLimit concurrency anyway).
    await eventually(async () => {
      await closedLoop(sidecar.url, 3, 300);
      return sidecar.proxy.overloadState().adaptive?.phase === 'steady';
    }, 15_000, 'the first minRTT measured');
    const stop = busyLoop(15, 20);
    const limits: number[] = [];
    const sampler = setInterval(() => limits.push(sidecar.proxy.overloadState().limit), 100);
    try {
      await closedLoop(sidecar.url, 2 * CAPACITY, 3_000);
    } finally {
      clearInterval(sampler);
      stop();
    }
    const state = sidecar.proxy.overloadState();
    expect(state.schedulingDelayMs).toBeGreaterThan(1);
    // The last two seconds: the limit holds at three quarters of the capacity or more; it sank to
    // minLimit (3) when the sidecar took its own delay for the app's.
    const settled = limits.slice(-20).sort((a, b) => a - b);
    expect(settled[Math.floor(settled.length / 2)]).toBeGreaterThanOrEqual(0.75 * CAPACITY);
  }, 30_000);
});

/**
 * What one proxied request costs the sidecar's process, apart from the machine's speed: bytes
 * allocated on V8's heap, young- and old-generation collections, CPU time. A real sidecar is
 * started with bench/alloc-probe.ts loaded and loaded by h2load, either closed loop (a number of
 * requests over a number of connections) or open loop at a fixed rate.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForReady } from '../tools/wait-for-ready.ts';
import type { ProbeCommand, ProbeReport } from './alloc-probe.ts';
import { freePort } from './processes.ts';

const PROBE = join(dirname(fileURLToPath(import.meta.url)), 'alloc-probe.ts');

export interface Load {
  connections: number;
  /** h2c with this many streams on each connection (HTTP/1.1 when absent). */
  streams?: number;
  /** Closed loop: this many requests, as fast as they are answered. */
  requests?: number;
  /** Open loop: this many requests a second for `seconds`. */
  rate?: number;
  seconds?: number;
}

export interface SidecarCost {
  requests: number;
  bytesPerRequest: number;
  cpuMicrosPerRequest: number;
  scavengesPer100k: number;
  markCompactsPer100k: number;
  gcMsPer100k: number;
  rssMiB: number;
  /** With `sample`: allocation sites, bytes per request, biggest first. */
  sites: { bytes: number; site: string }[];
}

export interface SidecarUnderTest {
  cli: string;
  /** The sidecar's environment (NODE_OPTIONS included). */
  env: NodeJS.ProcessEnv;
  upstreamPort: number;
  dir: string;
  /** More arguments for `badgateway sidecar` (`--app-protocol h2c`). */
  args?: string[];
}

/** h2load's count of requests answered with a 2xx; anything else fails the measurement. */
function succeeded(output: string): number {
  const line = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(output);
  if (line === null) throw new Error(`h2load gave no result: ${output.slice(-500)}`);
  const [, , done, ok, failed, errored] = line.map(Number) as number[];
  if (failed !== 0 || errored !== 0 || ok !== done) throw new Error(`h2load: ${failed} failed, ${errored} errored: ${output.slice(-500)}`);
  return ok as number;
}

export function h2loadLoadArgs(url: string, load: Load): string[] {
  const protocol = load.streams === undefined ? ['--h1'] : [`-m${load.streams}`];
  if (load.requests !== undefined) return [...protocol, `-c${load.connections}`, `-n${load.requests}`, url];
  return [...protocol, `-c${load.connections}`, `--rps=${(load.rate ?? 0) / load.connections}`, `-D${load.seconds ?? 10}`, url];
}

function h2load(url: string, load: Load): Promise<number> {
  const child = spawn('h2load', h2loadLoadArgs(url, load), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (data) => { output += String(data); });
  child.stderr.on('data', (data) => { output += String(data); });
  return new Promise((resolve, reject) => child.on('close', () => {
    try {
      resolve(succeeded(output));
    } catch (error) {
      reject(error as Error);
    }
  }));
}

/** A process to measure with the probe loaded: its node arguments (script and all), and how to know it serves `port`. */
export interface ProcessUnderTest {
  args: string[];
  env: NodeJS.ProcessEnv;
  port: number;
  /** Resolves once the process serves; `running` turns false if it exited meanwhile. */
  ready(running: () => boolean): Promise<unknown>;
}

/** Starts a sidecar with the probe, warms it up, measures each load in turn, stops it. */
export async function measureSidecar(target: SidecarUnderTest, loads: Load[], options: { sample?: boolean; warmUp?: number } = {}): Promise<SidecarCost[]> {
  const port = await freePort();
  const admin = await freePort();
  const config = join(target.dir, `alloc-sidecar-${port}.json`);
  writeFileSync(config, JSON.stringify({ circuitBreaker: { volumeThreshold: 1_000_000 } }));
  return measureProcess({
    args: [target.cli, 'sidecar', '--upstream', `http://127.0.0.1:${target.upstreamPort}`, '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${admin}`, '--config', config, '--log-level', 'warn', ...(target.args ?? [])],
    env: target.env,
    port,
    ready: (running) => waitForReady(admin, { stillRunning: running }),
  }, loads, options);
}

/** The same measurement of any proxy in front of the app (the bench's Node floors, bench/floor-proxy.ts). */
export async function measureProcess(target: ProcessUnderTest, loads: Load[], { sample = false, warmUp = 20_000 } = {}): Promise<SidecarCost[]> {
  const child = spawn(process.execPath, ['--import', PROBE, ...target.args], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...process.env, ...target.env },
  });
  const exited = new Promise<never>((_resolve, reject) => child.once('exit', (code, signal) => reject(new Error(`the process measured exited (${signal ?? code})`))));
  exited.catch(() => undefined);
  const ask = <T>(command: ProbeCommand) => Promise.race([exited, new Promise<T>((resolve) => {
    child.once('message', (answer) => resolve(answer as T));
    child.send(command);
  })]);
  try {
    await target.ready(() => child.exitCode === null);
    const url = `http://127.0.0.1:${target.port}/1k`;
    // JIT and the app-connection pool warm before anything counts.
    await h2load(url, { ...(loads[0] ?? { connections: 64 }), requests: warmUp });
    const costs: SidecarCost[] = [];
    for (const load of loads) {
      await ask({ command: 'start', sample });
      const requests = await h2load(url, load);
      const report = await ask<ProbeReport>({ command: 'stop' });
      const per100k = (count: number) => (count * 100_000) / requests;
      costs.push({
        requests,
        bytesPerRequest: report.allocatedBytes / requests,
        cpuMicrosPerRequest: report.cpuMicros / requests,
        scavengesPer100k: per100k(report.scavenges),
        markCompactsPer100k: per100k(report.markCompacts),
        gcMsPer100k: per100k(report.gcMs),
        rssMiB: report.rssBytes / 1024 / 1024,
        sites: report.sites.map((entry) => ({ site: entry.site, bytes: entry.bytes / requests })),
      });
    }
    return costs;
  } finally {
    child.kill('SIGKILL');
  }
}

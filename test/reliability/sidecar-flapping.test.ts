/**
 * The built sidecar (`badgateway sidecar`, a real process) under 500 concurrent keep-alive
 * connections while the app flaps up and down every second. It must not crash or leak file
 * descriptors, its memory must come back near the baseline, every failure must be a well-formed
 * 502/504 and every answer must belong to the request it answers (no request answered twice).
 *
 * BADGATEWAY_FLAP_SECONDS sets the load duration (default 30), BADGATEWAY_FLAP_CONNECTIONS the
 * number of connections (default 500). The soak of docs/reliability.md, run by hand:
 * BADGATEWAY_FLAP_SECONDS=600 BADGATEWAY_FLAP_CONNECTIONS=512 npx jest test/reliability/sidecar-flapping.test.ts
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort } from '../support/faulty-upstream.js';
import { eventually, startCli } from '../support/cli.js';
import { FlappingApp } from './flapping-app.js';
import { heapUsedAfterGc, inspectorUrl } from './inspector-gc.js';

const LOAD_SECONDS = Number(process.env.BADGATEWAY_FLAP_SECONDS ?? 30);
const CONNECTIONS = Number(process.env.BADGATEWAY_FLAP_CONNECTIONS ?? 500);
const FLAP_PERIOD_MS = 1_000;
const FD_SLACK = 16;
const HEAP_SLACK_BYTES = 16 * 1024 * 1024;
const REASONS = new Set(['connect-failed', 'timeout', 'reset', 'invalid-response', 'circuit-open']);
const ACCEPTS = ['application/json', 'text/html', 'text/plain'];

interface Outcome {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

interface Tally {
  ok: number;
  failures: Map<string, number>;
  clientErrors: Map<string, number>;
  malformed: string[];
  answers: Map<string, number>;
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

function send(port: number, agent: Agent, id: string, accept: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/items/${id}`, agent, headers: { 'x-request-id': id, accept } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
      res.on('aborted', () => reject(new Error('aborted mid-body')));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Why an outcome is not a correct answer to request `id`, or undefined when it is. */
function problemWith(outcome: Outcome, id: string, accept: string): string | undefined {
  if (outcome.headers['x-request-id'] !== id) return `x-request-id ${String(outcome.headers['x-request-id'])} answered ${id}`;
  if (outcome.status === 200) return outcome.body === `ok ${id}` ? undefined : `200 with someone else's body ${JSON.stringify(outcome.body.slice(0, 80))} for ${id}`;
  if (outcome.status !== 502 && outcome.status !== 504) return `unexpected status ${outcome.status}`;
  const reason = outcome.headers['x-badgateway-reason'];
  if (typeof reason !== 'string' || !REASONS.has(reason)) return `${outcome.status} with x-badgateway-reason ${String(reason)}`;
  if (!/^badgateway; error=[a-z_]+/.test(String(outcome.headers['proxy-status']))) return `${outcome.status} without a Proxy-Status error`;
  const type = String(outcome.headers['content-type']);
  if (accept === 'application/json') {
    if (!type.startsWith('application/problem+json')) return `JSON client got ${type}`;
    const problem = JSON.parse(outcome.body) as { status?: number; reason?: string; requestId?: string; title?: string };
    if (problem.status !== outcome.status || problem.reason !== reason || problem.requestId !== id) return `problem+json does not match: ${outcome.body.slice(0, 200)}`;
  } else if (accept === 'text/html') {
    if (!type.startsWith('text/html') || !outcome.body.includes(id)) return `HTML client got ${type} without its request id`;
  } else if (!type.startsWith('text/plain') || outcome.body.length === 0) {
    return `plain client got ${type} ${JSON.stringify(outcome.body.slice(0, 80))}`;
  }
  return undefined;
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

describe(`sidecar under ${CONNECTIONS} connections for ${LOAD_SECONDS}s while the app flaps every ${FLAP_PERIOD_MS}ms`, () => {
  let app: FlappingApp;
  let sidecar: ReturnType<typeof startCli>;
  let directory: string;
  let proxyPort: number;
  let adminPort: number;
  let inspector: string;

  beforeAll(async () => {
    app = await new FlappingApp().start();
    directory = await mkdtemp(join(tmpdir(), 'bgw-flap-'));
    const config = join(directory, 'policy.json');
    await writeFile(config, JSON.stringify({
      timeouts: { connect: '1s', response: '5s', idle: '1s' },
      circuitBreaker: { volumeThreshold: 20, rollingWindow: '2s', resetTimeout: '5s' },
    }));
    proxyPort = await closedPort();
    adminPort = await closedPort();
    sidecar = startCli(['sidecar', '--upstream', `http://127.0.0.1:${app.port}`, '--listen', `127.0.0.1:${proxyPort}`,
      '--admin', `127.0.0.1:${adminPort}`, '--config', config, '--log-level', 'error'],
    { NODE_OPTIONS: '--inspect=127.0.0.1:0' });
    await eventually(async () => (await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status === 200, 20_000, 'sidecar ready');
    inspector = inspectorUrl(sidecar.output()) ?? '';
    if (inspector === '') throw new Error(`the sidecar printed no inspector URL: ${sidecar.output().slice(0, 500)}`);
  }, 60_000);

  afterAll(async () => {
    sidecar?.child.kill('SIGKILL');
    await app?.close();
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it('survives, answers every request exactly once and correctly, and gives back fds and memory', async () => {
    const pid = sidecar.child.pid ?? 0;
    // Warm up so lazily created things (pools, JIT, metrics) are in the baseline.
    const warmAgent = new Agent({ keepAlive: true, maxSockets: 50 });
    await Promise.all(Array.from({ length: 200 }, (_, index) => send(proxyPort, warmAgent, `warm-${index}`, 'text/plain')));
    warmAgent.destroy();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const baselineFds = openFds(pid);
    const baselineRss = rssBytes(pid);
    const baselineHeap = await heapUsedAfterGc(inspector);

    const tally: Tally = { ok: 0, failures: new Map(), clientErrors: new Map(), malformed: [], answers: new Map() };
    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    app.flap(FLAP_PERIOD_MS);
    const deadline = Date.now() + LOAD_SECONDS * 1_000;
    let sequence = 0;
    let peakFds = 0;
    let peakRss = 0;
    const sampler = setInterval(() => {
      peakFds = Math.max(peakFds, openFds(pid));
      peakRss = Math.max(peakRss, rssBytes(pid));
    }, 500);
    sampler.unref();

    async function client(worker: number): Promise<void> {
      while (Date.now() < deadline) {
        sequence += 1;
        const id = `w${worker}-r${sequence}`;
        const accept = ACCEPTS[sequence % ACCEPTS.length] ?? 'text/plain';
        try {
          const outcome = await send(proxyPort, agent, id, accept);
          bump(tally.answers, id);
          const problem = problemWith(outcome, id, accept);
          if (problem !== undefined) tally.malformed.push(problem);
          else if (outcome.status === 200) tally.ok += 1;
          else bump(tally.failures, `${outcome.status} ${String(outcome.headers['x-badgateway-reason'])}`);
        } catch (error) {
          bump(tally.clientErrors, (error as Error).message);
        }
      }
    }
    await Promise.all(Array.from({ length: CONNECTIONS }, (_, worker) => client(worker)));
    clearInterval(sampler);
    agent.destroy();
    await app.steady();

    const answered = [...tally.answers.values()];
    const total = answered.length;
    const summary = {
      total, ok: tally.ok, failures: Object.fromEntries(tally.failures), clientErrors: Object.fromEntries(tally.clientErrors),
      malformed: tally.malformed.slice(0, 5), transitions: app.transitions, baselineFds, peakFds, baselineRss, peakRss,
    };
    console.log(`flapping load: ${JSON.stringify(summary)}`);

    expect(sidecar.child.exitCode).toBeNull();
    expect(app.transitions).toBeGreaterThanOrEqual(Math.min(4, LOAD_SECONDS - 1));
    expect(tally.malformed).toEqual([]);
    expect(Object.fromEntries(tally.clientErrors)).toEqual({});
    expect(answered.every((count) => count === 1)).toBe(true);
    expect(tally.ok).toBeGreaterThan(0);
    expect([...tally.failures.values()].reduce((sum, count) => sum + count, 0)).toBeGreaterThan(0);

    // After the load: the app is steady and healthy again, the sidecar recovers and gives back its fds and memory.
    await eventually(async () => {
      const response = await fetch(`http://127.0.0.1:${proxyPort}/after`, { headers: { 'x-request-id': 'after-load' } });
      return response.status === 200 && (await response.text()) === 'ok after-load';
    }, 30_000, 'breaker closes and traffic flows after the flapping stops');
    await eventually(() => openFds(pid) <= baselineFds + FD_SLACK, 30_000, `fds back near ${baselineFds}`);
    // RSS is reported, not asserted: V8 keeps pages it grew into. The retained heap after a forced GC is the real test.
    const heapAfter = await heapUsedAfterGc(inspector);
    console.log(`after load: fds ${openFds(pid)} (baseline ${baselineFds}), heap after GC ${heapAfter} (baseline ${baselineHeap}), rss ${rssBytes(pid)} (baseline ${baselineRss})`);
    expect(heapAfter).toBeLessThanOrEqual(baselineHeap + HEAP_SLACK_BYTES);
  }, (LOAD_SECONDS + 120) * 1_000);
});

/**
 * The sidecar as the operator injects it (NODE_OPTIONS, default memory limit), in a real memory
 * cgroup, under sustained load: small responses on 64 connections, then 512 concurrent
 * connections streaming 100 KiB responses. It must not be OOM-killed, since a killed sidecar
 * resets every connection of the pod. (This sequence got it killed under the former 128Mi
 * default.) Needs root, a writable cgroup filesystem and wrk; skips with the reason otherwise.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request } from 'undici';
import { DEFAULT_INJECTION_SETTINGS } from '../../operator/inject/settings.js';
import { SIDECAR_ENV } from '../../operator/inject/sidecar-container.js';
import { cliEntry, eventually } from '../support/cli.js';
import { closedPort } from '../support/faulty-upstream.js';
import { createMemoryCgroup, type MemoryCgroup } from '../support/memory-cgroup.js';

const limit = DEFAULT_INJECTION_SETTINGS.resources.limits.memory;
const limitMiB = Number(/^(\d+)Mi$/.exec(limit)?.[1]);
const CONNECTIONS = 512;
const BODY_BYTES = 100 * 1024;
const SMALL_BYTES = 1024;

function unavailable(): string | undefined {
  if (spawnSync('sh', ['-c', 'command -v wrk']).status !== 0) return 'wrk not installed (apt-get update && apt-get install -y wrk)';
  const probe = createMemoryCgroup(`badgateway-probe-${process.pid}`, 64 * 1024 * 1024);
  if ('unavailable' in probe) return probe.unavailable;
  probe.remove();
  return undefined;
}
const reason = unavailable();
if (reason !== undefined) process.stderr.write(`memory-limit test SKIPPED: ${reason}\n`);
const describeIfPossible = reason === undefined ? describe : describe.skip;

const processes: ChildProcess[] = [];
let cgroup: MemoryCgroup | undefined;
afterEach(async () => {
  await Promise.all(processes.splice(0).map((child) => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  })));
  cgroup?.remove();
  cgroup = undefined;
});

function started(child: ChildProcess): ChildProcess {
  processes.push(child);
  return child;
}

/** wrk's summary: requests, non-2xx responses and socket errors other than timeouts. */
function runWrk(url: string, connections: number, seconds: number): Promise<{ requests: number; non2xx: number; socketErrors: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (data) => { output += String(data); });
    child.stderr.on('data', (data) => { output += String(data); });
    child.on('close', () => {
      const errors = /Socket errors: connect (\d+), read (\d+), write (\d+)/.exec(output);
      resolve({
        requests: Number(/(\d+) requests in/.exec(output)?.[1] ?? 0),
        non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
        socketErrors: errors === null ? 0 : Number(errors[1]) + Number(errors[2]) + Number(errors[3]),
        output,
      });
    });
  });
}

describeIfPossible(`the injected sidecar under its default memory limit (${limit})`, () => {
  it(`serves 64 connections of 1 KiB, then ${CONNECTIONS} connections of 100 KiB responses, without being OOM-killed`, async () => {
    const upstreamPort = await closedPort();
    started(spawn(process.execPath, ['-e', `const large = Buffer.alloc(${BODY_BYTES}, 120), small = Buffer.alloc(${SMALL_BYTES}, 120);
require('node:http').createServer((q, s) => { const body = q.url === '/small' ? small : large; s.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }); s.end(body); }).listen(${upstreamPort}, '127.0.0.1')`], { stdio: 'ignore' }));

    const group = createMemoryCgroup(`badgateway-test-${process.pid}`, limitMiB * 1024 * 1024);
    if ('unavailable' in group) throw new Error(group.unavailable);
    cgroup = group;
    const port = await closedPort();
    const admin = await closedPort();
    // The shell joins the cgroup, then becomes the sidecar: everything it allocates is charged there.
    const sidecar = started(spawn('sh', ['-c', 'echo $$ > "$CGROUP_PROCS" && exec "$@"', 'sh',
      process.execPath, cliEntry, 'sidecar', '--upstream', `http://127.0.0.1:${upstreamPort}`, '--listen', `127.0.0.1:${port}`, '--admin', `127.0.0.1:${admin}`, '--log-level', 'warn'],
    { env: { ...process.env, ...Object.fromEntries(SIDECAR_ENV.map((variable) => [variable.name, variable.value])), CGROUP_PROCS: group.procsFile }, stdio: 'ignore' }));
    await eventually(async () => (await request(`http://127.0.0.1:${admin}/readyz`)).statusCode === 200, 20_000, 'sidecar ready');
    const warm = await request(`http://127.0.0.1:${port}/`);
    expect({ status: warm.statusCode, bytes: (await warm.body.arrayBuffer()).byteLength }).toEqual({ status: 200, bytes: BODY_BYTES });

    const small = await runWrk(`http://127.0.0.1:${port}/small`, 64, 10);
    const large = await runWrk(`http://127.0.0.1:${port}/`, CONNECTIONS, 20);

    const peakMiB = Math.round(group.peakBytes() / 1024 / 1024);
    console.log(`memory limit ${limit}: ${small.requests} requests of 1 KiB over 64 connections, then ${large.requests} of 100 KiB over ${CONNECTIONS}; peak charged ${peakMiB} MiB`);
    expect({ oomKills: group.oomKills(), exitCode: sidecar.exitCode, signal: sidecar.signalCode }).toEqual({ oomKills: 0, exitCode: null, signal: null });
    for (const load of [small, large]) {
      expect({ requests: load.requests > 0, non2xx: load.non2xx, socketErrors: load.socketErrors }).toEqual({ requests: true, non2xx: 0, socketErrors: 0 });
    }
    const after = await request(`http://127.0.0.1:${port}/`);
    await after.body.dump();
    expect(after.statusCode).toBe(200);
  }, 90_000);
});

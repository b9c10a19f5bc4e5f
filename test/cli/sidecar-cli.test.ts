import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { closedPort, FaultyUpstream } from '../support/faulty-upstream.js';
import { eventually, runCli, startCli } from '../support/cli.js';

let upstream: FaultyUpstream | undefined;
const stops: (() => void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await upstream?.close();
  upstream = undefined;
});

describe('badgateway sidecar: bad input', () => {
  it.each([
    [['sidecar'], /^badgateway: --upstream: required/],
    [['sidecar', '--upstream', 'ftp://app:21'], /^badgateway: --upstream: "ftp:\/\/app:21" must be an http:\/\/ URL/],
    [['sidecar', '--upstream', 'http://127.0.0.1:8080', '--listen', 'banana'], /^badgateway: --listen: "banana" is not HOST:PORT/],
    [['sidecar', '--upstream', 'http://127.0.0.1:8080', '--drain-timeout', 'soon'], /^badgateway: --drain-timeout: "soon" is not a duration/],
    [['sidecar', '--upstream', 'http://127.0.0.1:8080', '--log-level', 'loud'], /--log-level.*loud/],
    [['sidecar', '--bogus'], /unknown option '--bogus'/],
    [['sidecar', '--upstream', 'http://127.0.0.1:8080', '--app-protocol', 'h3'], /--app-protocol.*h3.*http1, h2c/],
  ])('%j exits 2 with one line naming the field', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
  });

  it('a bad config file exits 2 naming the file and the field', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'bgw-cli-'));
    const file = join(directory, 'policy.json');
    await writeFile(file, JSON.stringify({ openStatus: 500 }));
    const result = await runCli(['sidecar', '--upstream', 'http://127.0.0.1:8080', '--config', file]);
    await rm(directory, { recursive: true });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`badgateway: ${file}: openStatus: 500 is not one of 502, 503`);
  });

  it('reads BADGATEWAY_APP_PROTOCOL like --app-protocol', async () => {
    const result = await runCli(['sidecar', '--upstream', 'http://127.0.0.1:8080'], { env: { BADGATEWAY_APP_PROTOCOL: 'grpc' } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toMatch(/--app-protocol.*grpc/);
  });

  it('a config file that is not YAML: one line ending with where, no dangling colon', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'bgw-cli-'));
    const file = join(directory, 'policy.yaml');
    await writeFile(file, 'timeouts:\n  connect: [1s\n');
    const result = await runCli(['sidecar', '--upstream', 'http://127.0.0.1:8080', '--config', file]);
    await rm(directory, { recursive: true });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^badgateway: ${file}: not valid JSON or YAML: .* at line 3, column 1\\n$`));
  });

  it('reads BADGATEWAY_UPSTREAM like --upstream', async () => {
    const result = await runCli(['sidecar'], { env: { BADGATEWAY_UPSTREAM: 'gopher://x' } });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"gopher://x" must be an http:// URL');
  });

  it('names the environment variable a bad value came from', async () => {
    const upstreamResult = await runCli(['sidecar'], { env: { BADGATEWAY_UPSTREAM: 'gopher://x' } });
    expect({ code: upstreamResult.code, stderr: upstreamResult.stderr }).toEqual({ code: 2, stderr: 'badgateway: BADGATEWAY_UPSTREAM: "gopher://x" must be an http:// URL\n' });
    const listenResult = await runCli(['sidecar', '--upstream', 'http://127.0.0.1:8080'], { env: { BADGATEWAY_LISTEN: 'banana' } });
    expect({ code: listenResult.code, stderr: listenResult.stderr }).toEqual({ code: 2, stderr: 'badgateway: BADGATEWAY_LISTEN: "banana" is not HOST:PORT (e.g. 0.0.0.0:8502)\n' });
    const flagWins = await runCli(['sidecar', '--upstream', 'ftp://app:21'], { env: { BADGATEWAY_UPSTREAM: 'http://127.0.0.1:8080' } });
    expect(flagWins.stderr).toBe('badgateway: --upstream: "ftp://app:21" must be an http:// URL\n');
  });
});

describe('badgateway sidecar: running', () => {
  it('serves, reports a trip in /metrics, and drains an in-flight request on SIGTERM, exiting 0', async () => {
    upstream = await new FaultyUpstream().start();
    const proxyPort = await closedPort();
    const adminPort = await closedPort();
    const config = join(await mkdtemp(join(tmpdir(), 'bgw-cli-')), 'policy.json');
    await writeFile(config, 'circuitBreaker:\n  volumeThreshold: 2\n  resetTimeout: 30s\n  failureStatusCodes: [503]\n');
    const sidecar = startCli(['sidecar', '--listen', `127.0.0.1:${proxyPort}`, '--admin', `127.0.0.1:${adminPort}`, '--config', config], {
      BADGATEWAY_UPSTREAM: upstream.url,
    });
    stops.push(() => sidecar.child.kill('SIGKILL'));
    const proxy = `http://127.0.0.1:${proxyPort}`;
    const admin = `http://127.0.0.1:${adminPort}`;
    await eventually(async () => (await request(`${admin}/readyz`)).statusCode === 200, 10_000, 'readyz');

    upstream.mode = { kind: 'slow', delayMs: 700 };
    const inFlight = request(proxy);
    await eventually(() => upstream!.seen.length > 0 || true);
    await new Promise((resolve) => setTimeout(resolve, 150));
    sidecar.child.kill('SIGTERM');
    const response = await inFlight;
    expect(response.statusCode).toBe(200);
    expect(await response.body.text()).toBe('slow answer');
    expect(await sidecar.exited).toBe(0);
    // One `component` per line (the role); the proxy's access log names its part as `subsystem`.
    const lines = sidecar.output().split('\n').filter((line) => line.startsWith('{'));
    for (const line of lines) expect(line.match(/"component":/g) ?? []).toHaveLength(1);
    expect(lines.find((line) => line.includes('"msg":"request"'))).toContain('"subsystem":"proxy"');
  });

  it('exposes the trip in /metrics and /config', async () => {
    const proxyPort = await closedPort();
    const adminPort = await closedPort();
    const sidecar = startCli(['sidecar', '--upstream', `http://127.0.0.1:${await closedPort()}`, '--listen', `127.0.0.1:${proxyPort}`, '--admin', `127.0.0.1:${adminPort}`, '--log-level', 'warn']);
    stops.push(() => sidecar.child.kill('SIGKILL'));
    const admin = `http://127.0.0.1:${adminPort}`;
    await eventually(async () => (await request(`${admin}/readyz`)).statusCode === 200, 10_000, 'readyz');
    for (let index = 0; index < 12; index += 1) await (await request(`http://127.0.0.1:${proxyPort}`)).body.text();
    const metrics = await (await request(`${admin}/metrics`)).body.text();
    expect(metrics).toContain('badgateway_circuit_state 2');
    expect(metrics).toContain('badgateway_circuit_transitions_total{to="open"} 1');
    expect(metrics).toMatch(/badgateway_requests_total\{code="502",reason="connect-failed"\} 10/);
    expect(metrics).toMatch(/badgateway_requests_total\{code="502",reason="circuit-open"\} 2/);
    expect(metrics).toContain('badgateway_shadow_trips_total 0');
    expect(metrics).toContain('badgateway_reused_socket_failures_total 0');
    expect(metrics).toContain('badgateway_upstream_duration_seconds_count 10');
    const config = JSON.parse(await (await request(`${admin}/config`)).body.text());
    expect(config).toMatchObject({ circuit: 'open', config: { openStatus: 502 } });
    sidecar.child.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
  });
});

describe('badgateway sidecar: shutdown', () => {
  it('exits on SIGTERM although its stdout is a closed pipe', async () => {
    const sidecar = startCli(['sidecar', '--upstream', `http://127.0.0.1:${await closedPort()}`, '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--drain-timeout', '1s']);
    stops.push(() => sidecar.child.kill('SIGKILL'));
    await eventually(() => sidecar.output().includes('sidecar ready'), 20_000, 'sidecar ready');
    sidecar.child.stdout?.destroy(); // the reader goes away: the next write to stdout fails with EPIPE
    sidecar.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise((resolve) => { timer = setTimeout(resolve, 15_000, 'still running 15 s after SIGTERM'); });
    const exited = await Promise.race([sidecar.exited, stuck]);
    clearTimeout(timer);
    expect(exited).toBe(0);
  });
});

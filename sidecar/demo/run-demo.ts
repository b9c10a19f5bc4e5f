/**
 * `badgateway demo`: a sample app with the sidecar in front, steady traffic through it, and a
 * switch (keys or HTTP) to make the app healthy, failing, stuck, down or overloaded — the fast
 * branded 502 (or the limiter's 503) shows up within seconds, no cluster needed.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { silentLogger, type Logger } from '../../api/logger.js';
import { runSidecar, type RunningSidecar } from '../run-sidecar.js';
import { BurstTraffic } from './burst-traffic.js';
import { DEMO_GRPC_METHOD, GrpcCaller } from './grpc-demo.js';
import { APP_MODES, SampleApp, type AppMode } from './sample-app.js';

export interface DemoOptions {
  listenPort: number;
  adminPort: number;
  controlPort: number;
  /** 0 runs until quit. */
  durationMs: number;
  out: NodeJS.WriteStream | NodeJS.WritableStream;
  interactive: boolean;
  /** The sample app is a gRPC server over h2c, and the sidecar runs with --app-protocol h2c. */
  grpc?: boolean;
  logger?: Logger;
}

const DEMO_POLICY = {
  timeouts: { connect: '500ms', response: '2s', idle: '4s' },
  circuitBreaker: { volumeThreshold: 5, errorThresholdPercentage: 50, rollingWindow: '5s', resetTimeout: '5s' },
  overload: { mode: 'enforce', limit: 'adaptive', queue: { size: 16, timeout: '100ms' } },
  errorPages: [{
    status: 502,
    contentType: 'text/html',
    body: '<!doctype html><title>Back soon</title><h1>We\'ll be right back</h1><p>Our shop is taking a short break. Reference: {{requestId}} ({{reason}})</p>',
  }],
};

/** Responses of the last five seconds, counted per second so a burst costs no more than a trickle. */
class TrafficCounter {
  static readonly WINDOW_MS = 5000;
  private readonly seconds = new Map<number, Map<string, number>>();

  /** `status` is an HTTP status, or `grpc-status N` for a gRPC call. */
  record(status: number | string, reason: string): void {
    const second = Math.floor(Date.now() / 1000);
    let counts = this.seconds.get(second);
    if (counts === undefined) {
      counts = new Map();
      this.seconds.set(second, counts);
      for (const old of this.seconds.keys()) if (old < second - 4) this.seconds.delete(old);
    }
    const key = reason === '' ? String(status) : `${status} ${reason}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }

  summary(): string {
    const oldest = Math.floor(Date.now() / 1000) - 4;
    const totals = new Map<string, number>();
    for (const [second, counts] of this.seconds) {
      if (second < oldest) continue;
      for (const [key, count] of counts) totals.set(key, (totals.get(key) ?? 0) + count);
    }
    return [...totals].sort().map(([key, count]) => `${key}×${count}`).join('  ') || 'no traffic yet';
  }
}

/** A mode by its name, or by the name it had before 0.2 (`hanging`, now `stuck` like its key). */
function modeNamed(name: string): AppMode | undefined {
  const current = name === 'hanging' ? 'stuck' : name;
  return APP_MODES.find((mode) => mode === current);
}

/**
 * The breaker opened while the app failed, and it stays open until a trial request succeeds: a
 * mode switched since then shows its own answers only after that, which the status line says.
 */
function circuitNote(mode: AppMode, circuit: string): string {
  if (circuit === 'closed' || (mode !== 'healthy' && mode !== 'overload')) return '';
  return ` | the circuit opened while the app failed; it closes after the next trial request succeeds (resetTimeout ${DEMO_POLICY.circuitBreaker.resetTimeout})`;
}

/** A gRPC call as curl makes it: the empty message's 5-byte prefix in, the answer's headers and trailers out. */
function grpcCurl(proxyUrl: string): string {
  return `printf '\\0\\0\\0\\0\\0' | curl -s -m 10 --http2-prior-knowledge -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @- -o /dev/null -D - ${proxyUrl}${DEMO_GRPC_METHOD}`;
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const out = options.out;
  const grpc = options.grpc === true;
  const app = new SampleApp(grpc ? 'h2c' : 'http1');
  const appPort = await app.start();
  const directory = await mkdtemp(join(tmpdir(), 'badgateway-demo-'));
  const configPath = join(directory, 'policy.json');
  await writeFile(configPath, JSON.stringify(DEMO_POLICY, null, 2));
  const sidecar: RunningSidecar = await runSidecar({
    upstream: new URL(`http://127.0.0.1:${appPort}`),
    listen: { host: '127.0.0.1', port: options.listenPort },
    admin: { host: '127.0.0.1', port: options.adminPort },
    configPath,
    appProtocol: grpc ? 'h2c' : 'http1',
    drainTimeoutMs: 1000,
    logger: options.logger ?? silentLogger(),
  });
  const proxyUrl = `http://127.0.0.1:${sidecar.proxyAddress.port}`;
  const adminUrl = `http://127.0.0.1:${sidecar.adminAddress.port}`;
  const counter = new TrafficCounter();
  let circuit = 'closed';
  let limiter = '';
  // In overload mode many clients at once, so the limiter has something to shed.
  const burst = new BurstTraffic(proxyUrl, (status, reason) => counter.record(status, reason));
  const switchMode = async (mode: AppMode): Promise<void> => {
    await app.setMode(mode);
    if (mode === 'overload') burst.start();
    else await burst.stop();
  };

  const control: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo');
    const answer = (status: number, body: object): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    if (url.pathname !== '/_demo/mode' || req.method === 'GET' || req.method === 'HEAD') {
      answer(200, { mode: app.currentMode(), circuit, limiter, last5s: counter.summary(), modes: APP_MODES });
      return;
    }
    const wanted = url.searchParams.get('set');
    const mode = modeNamed(wanted ?? '');
    if (req.method !== 'POST' || mode === undefined) {
      const problem = req.method !== 'POST' ? `${req.method ?? ''} /_demo/mode: use POST to switch, GET to read` : `set: ${JSON.stringify(wanted)} is not a mode`;
      answer(req.method !== 'POST' ? 405 : 400, { error: `${problem}; modes: ${APP_MODES.join(', ')}`, modes: APP_MODES });
      return;
    }
    void switchMode(mode).then(() => answer(200, { mode: app.currentMode() }));
  });
  await new Promise<void>((resolve) => control.listen(options.controlPort, '127.0.0.1', resolve));
  const controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;

  out.write([
    '',
    'badgateway demo — a sample app with the badgateway sidecar in front of it',
    grpc
      ? `  a gRPC call through the sidecar (h2c):  ${grpcCurl(proxyUrl)}`
      : `  through the sidecar:  ${proxyUrl}/            (open it in a browser, or: curl -i ${proxyUrl}/)`,
    `  sidecar admin:        ${adminUrl}/metrics  ${adminUrl}/config`,
    `  switch the app:       curl -X POST '${controlUrl}/_demo/mode?set=down'   (${APP_MODES.join(' | ')})`,
    options.interactive ? '  keys:                 [h]ealthy  [f]ailing  [s]tuck  [d]own  [o]verloaded  [q]uit' : '',
    '',
  ].filter((line) => line !== '').join('\n') + '\n\n');

  // Steady traffic, so the breaker has something to count.
  const client = new Agent({ connections: 4 });
  const grpcCaller = new GrpcCaller(proxyUrl);
  const traffic = setInterval(() => {
    if (grpc) {
      void grpcCaller.call().then(({ grpcStatus, reason }) => counter.record(`grpc-status ${grpcStatus}`, reason), () => counter.record(0, 'client-error'));
      return;
    }
    void request(proxyUrl, { dispatcher: client, headers: { accept: 'text/html' } }).then(async (response) => {
      await response.body.dump();
      counter.record(response.statusCode, String(response.headers['x-badgateway-reason'] ?? ''));
    }, () => counter.record(0, 'client-error'));
  }, 100);
  traffic.unref();

  const status = setInterval(() => {
    void request(`${adminUrl}/config`).then(async (response) => {
      const state = (await response.body.json()) as { circuit: string; overload: { limit: number; inFlight: number; queued: number } };
      circuit = state.circuit;
      limiter = `limit ${state.overload.limit}, in flight ${state.overload.inFlight}, queued ${state.overload.queued}`;
      const line = `app: ${app.currentMode().padEnd(8)} | circuit: ${circuit.padEnd(9)} | limiter: ${limiter} | last 5s: ${counter.summary()}${circuitNote(app.currentMode(), circuit)}`;
      if (options.interactive) out.write(`\r\u001b[2K${line}`);
      else out.write(`${line}\n`);
    }, () => undefined);
  }, options.interactive ? 500 : TrafficCounter.WINDOW_MS); // printed lines, one per window, never overlap
  status.unref();

  await new Promise<void>((resolve) => {
    if (options.durationMs > 0) setTimeout(resolve, options.durationMs).unref();
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
    if (options.interactive && process.stdin.isTTY) {
      process.stdin.setRawMode(true);
      process.stdin.resume();
      process.stdin.on('data', (data) => {
        const key = String(data).toLowerCase();
        const mode = APP_MODES.find((name) => name.startsWith(key));
        if (mode !== undefined) void switchMode(mode);
        if (key === 'q' || data[0] === 3) resolve();
      });
    }
  });

  clearInterval(traffic);
  clearInterval(status);
  if (options.interactive && process.stdin.isTTY) {
    process.stdin.setRawMode(false);
    process.stdin.pause();
  }
  out.write('\nstopping…\n');
  await client.close();
  grpcCaller.close();
  await burst.close();
  await new Promise<void>((resolve) => control.close(() => resolve()));
  await sidecar.shutdown();
  await app.stop();
  await rm(directory, { recursive: true, force: true });
}

/**
 * `badgateway demo`: a sample app with the sidecar in front, steady traffic through it, and a
 * switch (keys or HTTP) to make the app healthy, failing, hanging or down — the fast branded 502
 * shows up within seconds, no cluster needed.
 */
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { silentLogger, type Logger } from '../../api/logger.js';
import { runSidecar, type RunningSidecar } from '../run-sidecar.js';
import { APP_MODES, SampleApp, type AppMode } from './sample-app.js';

export interface DemoOptions {
  listenPort: number;
  adminPort: number;
  controlPort: number;
  /** 0 runs until quit. */
  durationMs: number;
  out: NodeJS.WriteStream | NodeJS.WritableStream;
  interactive: boolean;
  logger?: Logger;
}

const DEMO_POLICY = {
  timeouts: { connect: '500ms', response: '2s', idle: '4s' },
  circuitBreaker: { volumeThreshold: 5, errorThresholdPercentage: 50, rollingWindow: '5s', resetTimeout: '5s' },
  errorPages: [{
    status: 502,
    contentType: 'text/html',
    body: '<!doctype html><title>Back soon</title><h1>We\'ll be right back</h1><p>Our shop is taking a short break. Reference: {{requestId}} ({{reason}})</p>',
  }],
};

class TrafficCounter {
  private window: { at: number; status: number; reason: string }[] = [];

  record(status: number, reason: string): void {
    const now = Date.now();
    this.window.push({ at: now, status, reason });
    while (this.window.length > 0 && (this.window[0] as { at: number }).at < now - 5000) this.window.shift();
  }

  summary(): string {
    const counts = new Map<string, number>();
    for (const entry of this.window) {
      const key = entry.reason === '' ? String(entry.status) : `${entry.status} ${entry.reason}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts].sort().map(([key, count]) => `${key}×${count}`).join('  ') || 'no traffic yet';
  }
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const out = options.out;
  const app = new SampleApp();
  const appPort = await app.start();
  const directory = await mkdtemp(join(tmpdir(), 'badgateway-demo-'));
  const configPath = join(directory, 'policy.json');
  await writeFile(configPath, JSON.stringify(DEMO_POLICY, null, 2));
  const sidecar: RunningSidecar = await runSidecar({
    upstream: new URL(`http://127.0.0.1:${appPort}`),
    listen: { host: '127.0.0.1', port: options.listenPort },
    admin: { host: '127.0.0.1', port: options.adminPort },
    configPath,
    drainTimeoutMs: 1000,
    logger: options.logger ?? silentLogger(),
  });
  const proxyUrl = `http://127.0.0.1:${sidecar.proxyAddress.port}`;
  const adminUrl = `http://127.0.0.1:${sidecar.adminAddress.port}`;
  const counter = new TrafficCounter();
  let circuit = 'closed';

  const control: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo');
    const wanted = url.searchParams.get('set');
    if (req.method === 'POST' && url.pathname === '/_demo/mode' && APP_MODES.includes(wanted as AppMode)) {
      void app.setMode(wanted as AppMode).then(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ mode: app.currentMode() }));
      });
      return;
    }
    res.writeHead(url.pathname === '/_demo/mode' ? 400 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ mode: app.currentMode(), circuit, last5s: counter.summary(), modes: APP_MODES }));
  });
  await new Promise<void>((resolve) => control.listen(options.controlPort, '127.0.0.1', resolve));
  const controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;

  out.write([
    '',
    'badgateway demo — a sample app with the badgateway sidecar in front of it',
    `  through the sidecar:  ${proxyUrl}/            (open it in a browser, or: curl -i ${proxyUrl}/)`,
    `  sidecar admin:        ${adminUrl}/metrics  ${adminUrl}/config`,
    `  switch the app:       curl -X POST '${controlUrl}/_demo/mode?set=down'   (healthy | failing | hanging | down)`,
    options.interactive ? '  keys:                 [h]ealthy  [f]ailing  [s]tuck/hanging  [d]own  [q]uit' : '',
    '',
  ].filter((line) => line !== '').join('\n') + '\n\n');

  // Steady traffic, so the breaker has something to count.
  const client = new Agent({ connections: 4 });
  const traffic = setInterval(() => {
    void request(proxyUrl, { dispatcher: client, headers: { accept: 'text/html' } }).then(async (response) => {
      await response.body.dump();
      counter.record(response.statusCode, String(response.headers['x-badgateway-reason'] ?? ''));
    }, () => counter.record(0, 'client-error'));
  }, 100);
  traffic.unref();

  const status = setInterval(() => {
    void request(`${adminUrl}/config`).then(async (response) => {
      circuit = ((await response.body.json()) as { circuit: string }).circuit;
      const line = `app: ${app.currentMode().padEnd(7)} | circuit: ${circuit.padEnd(9)} | last 5s: ${counter.summary()}`;
      if (options.interactive) out.write(`\r\u001b[2K${line}`);
      else out.write(`${line}\n`);
    }, () => undefined);
  }, options.interactive ? 500 : 2000);
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
        const mode = ({ h: 'healthy', f: 'failing', s: 'hanging', d: 'down' } as Record<string, AppMode>)[key];
        if (mode !== undefined) void app.setMode(mode);
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
  await new Promise<void>((resolve) => control.close(() => resolve()));
  await sidecar.shutdown();
  await app.stop();
  await rm(directory, { recursive: true, force: true });
}

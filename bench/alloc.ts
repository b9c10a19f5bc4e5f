/**
 * `node bench/alloc.ts`: bytes allocated, collections and CPU time per proxied 1 KiB request in a
 * real sidecar (bench/alloc-measure.ts), against nginx serving the file; figures a loaded machine
 * does not distort. Options:
 *   --requests N          closed loop, N requests (default 100000) over --connections (default 64)
 *   --rates R1,R2         open loop instead, at each rate for --seconds (default 20)
 *   --sample              also the sampling heap profiler's allocation sites (slows the sidecar)
 *   --node-options=S      the sidecar's NODE_OPTIONS instead of the injected ones ("" for none)
 *   --cli PATH            another build's dist/cli/main.js
 *   --rounds N            N fresh sidecars, one after the other (default 1)
 *   --streams N           h2c clients with N streams per connection (HTTP/1.1 when absent)
 *   --app-protocol h2c    the app speaks h2c (nginx `listen … http2`), passed to the sidecar
 *   --floor pipe|llhttp   Node's floor (bench/floor-proxy.ts) instead of the sidecar, with the same settings
 *   --floor h2            the bare node:http2 proxy (bench/h2-floor-proxy.ts, h2c app) instead of the sidecar
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { measureProcess, measureSidecar, type Load } from './alloc-measure.ts';
import { nginxUpstreamConfig } from './configs.ts';
import { nginxH2cAppConfig } from './h2-configs.ts';
import { freePort, start, stopAll, waitForPort } from './processes.ts';
import { injectedEnvironment, sidecarHeapGrowingPercent, withDefaultOldSpaceCap } from './sidecar-environment.ts';
import { floorArgs } from './floor.ts';

const H2_FLOOR = join(dirname(fileURLToPath(import.meta.url)), 'h2-floor-proxy.ts');

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '100000' },
    connections: { type: 'string', default: '64' },
    rates: { type: 'string' },
    seconds: { type: 'string', default: '20' },
    sample: { type: 'boolean', default: false },
    'node-options': { type: 'string' },
    cli: { type: 'string' },
    rounds: { type: 'string', default: '1' },
    streams: { type: 'string' },
    'app-protocol': { type: 'string', default: 'http1' },
    floor: { type: 'string' },
  },
});
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const connections = Number(values.connections);
const streams = values.streams === undefined ? {} : { streams: Number(values.streams) };
const loads: Load[] = values.rates === undefined
  ? [{ connections, ...streams, requests: Number(values.requests) }]
  : values.rates.split(',').map((rate) => ({ connections, ...streams, rate: Number(rate), seconds: Number(values.seconds) }));
if (values.floor !== undefined && !['pipe', 'llhttp', 'h2'].includes(values.floor)) throw new Error(`--floor: ${JSON.stringify(values.floor)} is not one of pipe, llhttp, h2`);
const h2cApp = values['app-protocol'] === 'h2c' || values.floor === 'h2';

const dir = mkdtempSync(join(tmpdir(), 'badgateway-alloc-'));
chmodSync(dir, 0o755); // nginx's workers run as nobody
process.on('exit', () => {
  stopAll();
  rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
mkdirSync(join(dir, 'www'));
writeFileSync(join(dir, 'www', '1k'), 'x'.repeat(1024));
const upstreamPort = await freePort();
writeFileSync(join(dir, 'upstream.conf'), h2cApp ? nginxH2cAppConfig(dir, upstreamPort) : nginxUpstreamConfig(dir, { upstream: upstreamPort, nginxProxy: 0, nginxStatic502: 0, haproxy: 0, blackhole: 0, nginxBlackhole: 0, haproxyBlackhole: 0 }));
start('nginx', ['-c', join(dir, 'upstream.conf'), '-p', dir], 'nginx-upstream');
await waitForPort(upstreamPort);

const { NODE_OPTIONS: injected = '', ...environment } = await injectedEnvironment(root);
const nodeOptions = values['node-options'] ?? await withDefaultOldSpaceCap(root, injected);
const cli = values.cli === undefined ? join(root, 'dist', 'cli', 'main.js') : resolve(values.cli);
process.stdout.write(`NODE_OPTIONS=${nodeOptions}\n`);
for (let round = 0; round < Number(values.rounds); round += 1) {
  const env = { ...environment, NODE_OPTIONS: nodeOptions };
  const floorPort = await freePort();
  const floorProcess = values.floor === 'h2'
    ? [H2_FLOOR, String(floorPort), `http://127.0.0.1:${upstreamPort}`]
    : floorArgs(floorPort, upstreamPort, values.floor === 'llhttp', await sidecarHeapGrowingPercent(root));
  const costs = values.floor === undefined
    ? await measureSidecar({ cli, env, upstreamPort, dir, args: h2cApp ? ['--app-protocol', 'h2c'] : [] }, loads, { sample: values.sample })
    : await measureProcess({ args: floorProcess, env, port: floorPort, ready: () => waitForPort(floorPort) }, loads, { sample: values.sample });
  costs.forEach((cost, index) => {
    const load = loads[index] as Load;
    const what = load.rate === undefined ? `${cost.requests} requests over ${load.connections} connections` : `${load.rate} req/s × ${load.seconds} s (${cost.requests} requests)`;
    process.stdout.write(`${what}: ${cost.bytesPerRequest.toFixed(0)} bytes/request, ${cost.cpuMicrosPerRequest.toFixed(1)} µs CPU/request, `
      + `${cost.scavengesPer100k.toFixed(0)} scavenges and ${cost.markCompactsPer100k.toFixed(1)} mark-compacts per 100k (${cost.gcMsPer100k.toFixed(0)} ms), RSS ${cost.rssMiB.toFixed(1)} MiB\n`);
    for (const { site, bytes } of cost.sites.slice(0, 40)) process.stdout.write(`  ${bytes.toFixed(0).padStart(6)}  ${site}\n`);
  });
}
process.exit(0);

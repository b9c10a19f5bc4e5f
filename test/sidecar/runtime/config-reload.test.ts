import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { runSidecar, type RunningSidecar } from '../../../sidecar/run-sidecar.js';
import { capturingLogger } from '../../support/capturing-logger.js';
import { eventually } from '../../support/cli.js';
import { closedPort } from '../../support/faulty-upstream.js';
import { writeKubeletVolume } from '../../support/kubelet-volume.js';

let running: RunningSidecar | undefined;
let directory: string | undefined;
afterEach(async () => {
  await running?.shutdown();
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  running = undefined;
  directory = undefined;
});


const page = (text: string) => JSON.stringify({ circuitBreaker: { volumeThreshold: 1000 }, errorPages: [{ status: 502, contentType: 'text/plain', body: text }] });

async function body(url: string): Promise<string> {
  const response = await request(url, { headers: { accept: 'text/plain' } });
  return response.body.text();
}


async function metricsText(): Promise<string> {
  const response = await request(`http://127.0.0.1:${running!.adminAddress.port}/metrics`);
  return response.body.text();
}

describe('config hot reload through kubelet-style symlink swaps', () => {
  it('applies a valid config, keeps the last good one on an invalid one, and survives repeated swaps', async () => {
    directory = await mkdtemp(join(tmpdir(), 'bgw-volume-'));
    await writeKubeletVolume(directory, { 'policy.json': page('page one') });
    const { lines, logger } = capturingLogger();
    running = await runSidecar({
      upstream: new URL(`http://127.0.0.1:${await closedPort()}`),
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      configPath: join(directory, 'policy.json'),
      drainTimeoutMs: 1000,
      logger,
      reload: { debounceMs: 20, pollMs: 60_000 },
    });
    const url = `http://127.0.0.1:${running.proxyAddress.port}`;
    expect(await body(url)).toBe('page one');

    await writeKubeletVolume(directory, { 'policy.json': page('page two') });
    await eventually(async () => (await body(url)) === 'page two');

    await writeKubeletVolume(directory, { 'policy.json': JSON.stringify({ timeouts: { connect: 'banana' } }) });
    await eventually(async () => (await metricsText()).includes('badgateway_config_reloads_total{result="error"} 1'));
    expect(await body(url)).toBe('page two');
    const rejected = lines.filter((line) => line.event === 'config-reload' && line.result === 'error');
    expect(rejected).toHaveLength(1);
    expect(String(rejected[0]!.msg)).toContain('timeouts.connect: "banana" is not a duration');

    for (const text of ['page three', 'page four', 'page five']) {
      await writeKubeletVolume(directory, { 'policy.json': page(text) });
      await eventually(async () => (await body(url)) === text);
    }
    expect(await metricsText()).toContain('badgateway_config_reloads_total{result="success"} 4');
  });
});

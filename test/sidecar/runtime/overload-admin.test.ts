import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { silentLogger } from '../../../api/logger.js';
import { runSidecar, type RunningSidecar } from '../../../sidecar/run-sidecar.js';
import { eventually } from '../../support/cli.js';
import { writeKubeletVolume } from '../../support/kubelet-volume.js';
import { LoadedApp } from '../../support/loaded-app.js';

let running: RunningSidecar | undefined;
let directory: string | undefined;
let app: LoadedApp | undefined;
afterEach(async () => {
  app?.release();
  await running?.shutdown();
  await app?.close();
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  running = undefined;
  directory = undefined;
  app = undefined;
});

async function text(url: string): Promise<{ status: number; body: string }> {
  const response = await request(url);
  return { status: response.statusCode, body: await response.body.text() };
}

const policy = (limit: number) => JSON.stringify({ overload: { mode: 'enforce', limit, queue: { size: 0 } } });

describe('overload on the admin port', () => {
  it('shows the limiter on /metrics and /config, and a config file reload changes the limit', async () => {
    app = await new LoadedApp().start();
    app.hold = true;
    directory = await mkdtemp(join(tmpdir(), 'bgw-overload-'));
    await writeKubeletVolume(directory, { 'policy.json': policy(1) });
    running = await runSidecar({
      upstream: new URL(app.url),
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      configPath: join(directory, 'policy.json'),
      drainTimeoutMs: 1000,
      logger: silentLogger(),
      reload: { debounceMs: 20, pollMs: 60_000 },
    });
    const proxy = `http://127.0.0.1:${running.proxyAddress.port}`;
    const admin = `http://127.0.0.1:${running.adminAddress.port}`;
    const held = text(proxy);
    await eventually(() => app!.heldCount === 1, 10_000, 'one request at the app');
    expect((await text(proxy)).status).toBe(503);

    const metrics = (await text(`${admin}/metrics`)).body;
    for (const line of [
      'badgateway_overload_limit 1',
      'badgateway_overload_inflight 1',
      'badgateway_overload_queued 0',
      'badgateway_overload_shed_total{mode="enforce"} 1',
      'badgateway_overload_shed_total{mode="shadow"} 0',
      'badgateway_requests_total{code="503",reason="overloaded"} 1',
      'badgateway_overload_queue_wait_seconds_count 0',
      'badgateway_overload_shed_by_cause_total{mode="enforce",cause="limit"} 1',
      'badgateway_overload_shed_by_cause_total{mode="enforce",cause="queue-timeout"} 0',
      'badgateway_overload_queue_standing_seconds_total 0',
      'badgateway_overload_lifo_switches_total 0',
    ]) expect(metrics.split('\n')).toContain(line);
    const config = JSON.parse((await text(`${admin}/config`)).body) as { config: { overload: unknown }; overload: unknown };
    expect(config.config.overload).toMatchObject({ mode: 'enforce', limit: 1 });
    expect(config.overload).toEqual({
      mode: 'enforce', limit: 1, inFlight: 1, queued: 0, shed: { enforce: 1, shadow: 0 },
      shedByCause: { limit: 1, 'queue-full': 0, 'queue-timeout': 0, 'circuit-open': 0 },
      queue: { standing: false, standingSeconds: 0, lifoSwitches: 0 }, schedulingDelayMs: 0,
    });

    await writeKubeletVolume(directory, { 'policy.json': policy(3) });
    await eventually(async () => (await text(`${admin}/metrics`)).body.includes('badgateway_overload_limit 3'), 10_000, 'limit 3 after the reload');
    const second = text(proxy);
    await eventually(() => app!.heldCount === 2, 10_000, 'a second request admitted under the new limit');
    app.release();
    expect([(await held).status, (await second).status]).toEqual([200, 200]);
  });
});

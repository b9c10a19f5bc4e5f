import { afterEach, describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { validateSidecarConfig } from '../../../api/validate.js';
import { createAdminServer, type AdminServer } from '../../../sidecar/admin-server.js';
import type { CircuitState } from '../../../sidecar/contracts.js';

let server: AdminServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(state: { ready: boolean; circuit: CircuitState; metrics?: () => Promise<string> }): Promise<string> {
  const defaults = validateSidecarConfig({});
  if (!defaults.ok) throw new Error(defaults.problems.join('; '));
  server = createAdminServer(
    { ready: () => state.ready, config: () => defaults.value, breakerState: () => state.circuit, overloadState: () => ({
      mode: 'off', limit: 0, inFlight: 0, queued: 0, shed: { enforce: 0, shadow: 0 },
      shedByCause: { limit: 0, 'queue-full': 0, 'queue-timeout': 0, 'circuit-open': 0 },
      queue: { standing: false, standingSeconds: 0, lifoSwitches: 0 }, schedulingDelayMs: 0,
    }) },
    { contentType: 'text/plain; version=0.0.4; charset=utf-8', text: state.metrics ?? (async () => 'badgateway_circuit_state 2\n') },
  );
  const address = await server.listen('127.0.0.1', 0);
  return `http://127.0.0.1:${address.port}`;
}

async function get(url: string, method: 'GET' | 'HEAD' | 'POST' = 'GET') {
  const response = await request(url, { method });
  return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
}

describe('admin server routes', () => {
  it('answers /healthz and /readyz as plain text, readiness following the state', async () => {
    const state = { ready: false, circuit: 'closed' as CircuitState };
    const admin = await start(state);
    expect(await get(`${admin}/healthz`)).toMatchObject({ status: 200, body: 'ok\n', headers: { 'content-type': 'text/plain; charset=utf-8' } });
    expect(await get(`${admin}/readyz`)).toMatchObject({ status: 503, body: 'not ready\n' });
    state.ready = true;
    expect(await get(`${admin}/readyz?verbose=1`)).toMatchObject({ status: 200, body: 'ready\n' });
  });

  it('serves the metrics text with its content type, and the effective config with the circuit state', async () => {
    const admin = await start({ ready: true, circuit: 'open' });
    expect(await get(`${admin}/metrics`)).toEqual({
      status: 200,
      headers: expect.objectContaining({ 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }),
      body: 'badgateway_circuit_state 2\n',
    });
    const config = await get(`${admin}/config`);
    expect(config.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(config.body)).toMatchObject({ circuit: 'open', config: { openStatus: 502, timeouts: { connect: '1s' } } });
  });

  it('answers HEAD without a body, other methods with 405 and unknown paths with 404', async () => {
    const admin = await start({ ready: true, circuit: 'closed' });
    expect(await get(`${admin}/healthz`, 'HEAD')).toMatchObject({ status: 200, body: '', headers: { 'content-length': '3' } });
    expect(await get(`${admin}/readyz`, 'POST')).toMatchObject({ status: 405, headers: { allow: 'GET, HEAD' } });
    expect(await get(`${admin}/`)).toMatchObject({ status: 404, body: 'not found\n' });
    expect(await get(`${admin}/healthz/extra`)).toMatchObject({ status: 404 });
  });

  it('answers 500 when the metrics cannot be rendered, and keeps serving', async () => {
    const admin = await start({ ready: true, circuit: 'closed', metrics: async () => { throw new Error('collector failed'); } });
    expect(await get(`${admin}/metrics`)).toMatchObject({ status: 500, body: 'internal error\n' });
    expect((await get(`${admin}/healthz`)).status).toBe(200);
  });
});

import { afterEach, describe, expect, it } from '@jest/globals';
import { Client, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { request } from 'undici';
import { closedPort } from '../support/faulty-upstream.js';
import { eventually, runCli, startCli } from '../support/cli.js';

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

/** The demo on free ports for a minute, killed after the test if it is still running. */
async function startDemo(extra: string[] = []) {
  const [port, adminPort, controlPort] = [await closedPort(), await closedPort(), await closedPort()];
  const demo = startCli(['demo', '--port', String(port), '--admin-port', String(adminPort), '--control-port', String(controlPort), '--duration', '60s', ...extra]);
  stops.push(() => demo.child.kill('SIGKILL'));
  return { demo, port, controlPort };
}

describe('badgateway demo', () => {
  it('serves the app, then the branded fast 502 once the app is switched down', async () => {
    const { demo, port, controlPort } = await startDemo();
    const proxy = `http://127.0.0.1:${port}/`;
    await eventually(async () => (await request(proxy)).statusCode === 200, 15_000, 'demo up');
    expect(demo.output()).toContain(`through the sidecar:  http://127.0.0.1:${port}/`);

    const switched = await request(`http://127.0.0.1:${controlPort}/_demo/mode?set=down`, { method: 'POST' });
    expect(await switched.body.json()).toEqual({ mode: 'down' });
    await eventually(async () => {
      const response = await request(proxy, { headers: { accept: 'text/html' } });
      const body = await response.body.text();
      return response.statusCode === 502 && response.headers['x-badgateway-reason'] === 'circuit-open' && body.includes("We'll be right back");
    }, 15_000, 'circuit open with the branded page');
    await eventually(() => /circuit: open/.test(demo.output()), 10_000, 'status line');

    demo.child.kill('SIGTERM');
    expect(await demo.exited).toBe(0);
  });

  it('overload mode: many clients at an app that slows with concurrency get 503 overloaded, the circuit stays closed', async () => {
    const { demo, port, controlPort } = await startDemo();
    await eventually(async () => (await request(`http://127.0.0.1:${port}/`)).statusCode === 200, 15_000, 'demo up');
    expect(demo.output()).toContain('(healthy | failing | stuck | down | overload)');

    const switched = await request(`http://127.0.0.1:${controlPort}/_demo/mode?set=overload`, { method: 'POST' });
    expect(await switched.body.json()).toEqual({ mode: 'overload' });
    await eventually(() => /app: overload .*\| limiter: limit \d+, in flight \d+, queued \d+ \| last 5s: .*503 overloaded×\d+/.test(demo.output()), 20_000, 'sheds on the status line');
    const state = await (await request(`http://127.0.0.1:${controlPort}/`)).body.json() as { circuit: string };
    expect(state.circuit).toBe('closed');

    demo.child.kill('SIGTERM');
    expect(await demo.exited).toBe(0);
  }, 60_000);

  it('its switch speaks the key names, says what is wrong with a bad one, and reads with GET', async () => {
    const { demo, controlPort } = await startDemo();
    const mode = `http://127.0.0.1:${controlPort}/_demo/mode`;
    await eventually(async () => (await request(mode)).statusCode === 200, 15_000, 'GET /_demo/mode answers the state');
    expect(await (await request(mode)).body.json()).toMatchObject({ mode: 'healthy', modes: ['healthy', 'failing', 'stuck', 'down', 'overload'] });

    const stuck = await request(`${mode}?set=stuck`, { method: 'POST' });
    expect([stuck.statusCode, await stuck.body.json()]).toEqual([200, { mode: 'stuck' }]);
    const bad = await request(`${mode}?set=sleepy`, { method: 'POST' });
    expect([bad.statusCode, await bad.body.json()]).toEqual([400, expect.objectContaining({ error: 'set: "sleepy" is not a mode; modes: healthy, failing, stuck, down, overload' })]);
    const missing = await request(mode, { method: 'POST' });
    expect([missing.statusCode, (await missing.body.json() as { error: string }).error]).toEqual([400, 'set: null is not a mode; modes: healthy, failing, stuck, down, overload']);
    demo.child.kill('SIGTERM');
    expect(await demo.exited).toBe(0);
  });

  it('a circuit still open from the last mode is explained on the status line', async () => {
    const { demo, port, controlPort } = await startDemo();
    await eventually(async () => (await request(`http://127.0.0.1:${port}/`)).statusCode === 200, 15_000, 'demo up');
    await request(`http://127.0.0.1:${controlPort}/_demo/mode?set=down`, { method: 'POST' });
    await eventually(async () => (await request(`http://127.0.0.1:${port}/`)).headers['x-badgateway-reason'] === 'circuit-open', 15_000, 'circuit open');
    await request(`http://127.0.0.1:${controlPort}/_demo/mode?set=overload`, { method: 'POST' });
    await eventually(() => /app: overload .*circuit: (open|half-open).*the circuit opened while the app failed; it closes after the next trial request succeeds/.test(demo.output()), 15_000, 'the note on the status line');
    demo.child.kill('SIGTERM');
    expect(await demo.exited).toBe(0);
  }, 45_000);

  it('--grpc: a @grpc/grpc-js client gets the app\'s answer, then the sidecar\'s DEADLINE_EXCEEDED (stuck) and UNAVAILABLE (down) with their reasons', async () => {
    const { demo, port, controlPort } = await startDemo(['--grpc']);
    const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
    stops.push(() => client.close());
    const identity = (bytes: Buffer): Buffer => bytes;
    const call = () => new Promise<{ code: number; reason: unknown }>((resolve) => {
      client.makeUnaryRequest('/badgateway.demo.Demo/Hello', identity, identity, Buffer.alloc(0), (error: ServiceError | null) => {
        resolve(error === null ? { code: status.OK, reason: undefined } : { code: error.code, reason: error.metadata.get('x-badgateway-reason')[0] });
      });
    });
    await eventually(async () => (await call()).code === status.OK, 15_000, 'the gRPC app answering through the sidecar');
    expect(demo.output()).toContain(`--http2-prior-knowledge -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @- -o /dev/null -D - http://127.0.0.1:${port}/badgateway.demo.Demo/Hello`);

    await request(`http://127.0.0.1:${controlPort}/_demo/mode?set=stuck`, { method: 'POST' });
    let last: { code: number; reason: unknown } | undefined;
    await eventually(async () => { last = await call(); return last.code === status.DEADLINE_EXCEEDED; }, 15_000, () => `DEADLINE_EXCEEDED; last: ${JSON.stringify(last)}`);
    expect(last?.reason).toBe('timeout');
    await request(`http://127.0.0.1:${controlPort}/_demo/mode?set=down`, { method: 'POST' });
    await eventually(async () => { last = await call(); return last.code === status.UNAVAILABLE && last.reason === 'circuit-open'; }, 20_000, () => `UNAVAILABLE circuit-open; last: ${JSON.stringify(last)}`);
    await eventually(() => /app: down .*last 5s: .*grpc-status 14 circuit-open×\d+/.test(demo.output()), 15_000, 'gRPC answers on the status line');

    demo.child.kill('SIGTERM');
    expect(await demo.exited).toBe(0);
  }, 60_000);

  it('--help names each default once', async () => {
    const help = await runCli(['demo', '--help']);
    expect(help.stdout).toMatch(/--duration <duration> +stop after this long \(default: until q or Ctrl-C\)\n/);
    expect(help.stdout.match(/default/g)).toHaveLength(4); // one per option: --port, --admin-port, --control-port, --duration
  });
});

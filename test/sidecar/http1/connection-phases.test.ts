/**
 * A client connection's phases (sidecar/http1/connection-phase.ts), watched through the host's
 * phaseChanged() while real clients drive a real ClientConnection over loopback: each scenario's
 * sequence, and every change the table allows seen at least once.
 */
import { afterAll, afterEach, describe, expect, it } from '@jest/globals';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { silentLogger } from '../../../api/logger.js';
import { createAccessLogSampler } from '../../../sidecar/access-log-sampler.js';
import { createBreaker } from '../../../sidecar/breaker.js';
import { deadlinesOf } from '../../../sidecar/core/deadlines.js';
import { ClientConnection } from '../../../sidecar/http1/client-connection.js';
import type { ConnectionHost } from '../../../sidecar/http1/connection-host.js';
import { NEXT_PHASES, type ConnectionPhase } from '../../../sidecar/http1/connection-phase.js';
import { buildRouteState, type RouteState } from '../../../sidecar/http1/route-state.js';
import { UpstreamPool } from '../../../sidecar/http1/upstream-pool.js';
import { ConcurrencyLimiter } from '../../../sidecar/overload/limiter.js';
import { closedPort } from '../../support/faulty-upstream.js';
import { answerEach, OK_RESPONSE, RawUpstream, type UpstreamScript } from '../../support/raw-upstream.js';
import { RecordingMetrics } from '../../support/recording-metrics.js';
import { sidecarConfig } from '../../support/sidecar-harness.js';

type Change = `${ConnectionPhase}>${ConnectionPhase}`;
const seen = new Set<Change>();
const closers: (() => Promise<void> | void)[] = [];

/** A proxy's worth of real parts around ClientConnection, recording each connection's phase changes. */
async function phaseProxy(upstream: string, policy: unknown = {}) {
  const config = sidecarConfig(policy);
  const metrics = new RecordingMetrics();
  const logger = silentLogger();
  const state: RouteState = buildRouteState(config, createBreaker(config.circuitBreaker, metrics, logger), new UpstreamPool(new URL(upstream), deadlinesOf(config.timeouts), 16_384));
  const changes: ConnectionPhase[][] = [];
  const byConnection = new Map<unknown, ConnectionPhase[]>();
  const closed: (() => void)[] = [];
  const host: ConnectionHost = {
    metrics, logger, accessLog: false, maxHeaderSize: 16_384, upstreamAuthority: new URL(upstream).host,
    fastFailureLog: createAccessLogSampler(),
    limiter: new ConcurrencyLimiter(state.overload, { shed: () => undefined, queueWait: () => undefined }),
    routeState: () => state,
    isDraining: () => false,
    phaseChanged(connection, from, to) {
      let phases = byConnection.get(connection);
      if (phases === undefined) {
        phases = [from];
        byConnection.set(connection, phases);
        changes.push(phases);
      }
      phases.push(to);
      seen.add(`${from}>${to}`);
    },
    connectionClosed: () => { for (const wake of closed.splice(0)) wake(); },
    clientError: () => undefined,
  };
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => new ClientConnection(host, socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    state.breaker.close();
    await state.pool.destroy();
  });
  const port = (server.address() as AddressInfo).port;
  return {
    metrics,
    /** The phases of the n-th connection, once it closed. */
    phasesOnClose: (index = 0) => new Promise<ConnectionPhase[]>((resolve) => {
      const check = () => {
        const phases = changes[index];
        if (phases !== undefined && phases[phases.length - 1] === 'closed') resolve(phases);
        else closed.push(check);
      };
      check();
    }),
    open: () => new Promise<Socket>((resolve) => { const socket = connect(port, '127.0.0.1', () => resolve(socket)); socket.on('error', () => undefined); }),
  };
}

async function rawApp(script: UpstreamScript = answerEach(OK_RESPONSE)): Promise<RawUpstream> {
  const app = await new RawUpstream(script).start();
  closers.push(() => app.close());
  return app;
}

/** Resolves with everything the client received once `text` appeared in it. */
function received(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const onData = (chunk: Buffer) => {
      data += chunk.toString('latin1');
      if (data.includes(text)) {
        socket.off('data', onData);
        resolve(data);
      }
    };
    socket.on('data', onData);
  });
}

const GET = 'GET / HTTP/1.1\r\nhost: x\r\n\r\n';

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe('client connection phases', () => {
  it('a keep-alive GET: idle, head, body, exchanging, idle; the client\'s FIN then closes it', async () => {
    const proxy = await phaseProxy((await rawApp()).url);
    const client = await proxy.open();
    client.write(GET);
    await received(client, '\r\n\r\nok');
    client.end();
    expect(await proxy.phasesOnClose()).toEqual(['idle', 'head', 'body', 'exchanging', 'idle', 'closing', 'closed']);
  });

  it('pipelined requests: the second head is parsed from what arrived while the first was answered', async () => {
    const proxy = await phaseProxy((await rawApp()).url);
    const client = await proxy.open();
    client.write(GET + GET);
    const both = received(client, 'ok');
    await both;
    await new Promise((resolve) => setTimeout(resolve, 50));
    client.end();
    expect(await proxy.phasesOnClose()).toEqual(['idle', 'head', 'body', 'exchanging', 'head', 'body', 'exchanging', 'idle', 'closing', 'closed']);
  });

  it('a refused request: head, then closing after the 4xx', async () => {
    const proxy = await phaseProxy((await rawApp()).url);
    const client = await proxy.open();
    client.write('GET / HTTP/1.1\r\n\r\n');
    expect(await received(client, '400 Bad Request')).toContain('client-refused');
    expect(await proxy.phasesOnClose()).toEqual(['idle', 'head', 'closing', 'closed']);
  });

  it('a client reset mid-head, mid-body, while idle and while exchanging closes from that phase', async () => {
    const app = await rawApp(async (connection) => { await connection.nextRequest(); }); // never answers
    const proxy = await phaseProxy(app.url);
    const cases: [string, ConnectionPhase[]][] = [
      ['GET / HTTP/1.1\r\nho', ['idle', 'head', 'closed']],
      ['POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 9\r\n\r\nabc', ['idle', 'head', 'body', 'closed']],
      ['', ['idle', 'closed']],
      [GET, ['idle', 'head', 'body', 'exchanging', 'closed']],
    ];
    for (const [index, [bytes, phases]] of cases.entries()) {
      const client = await proxy.open();
      if (bytes !== '') client.write(bytes);
      await new Promise((resolve) => setTimeout(resolve, 100));
      client.resetAndDestroy();
      expect(await proxy.phasesOnClose(index)).toEqual(phases);
    }
  });

  it('a FIN mid-body: closing at once (the rest of the body can never arrive)', async () => {
    const app = await rawApp(async (connection) => { await connection.nextRequest(); });
    const proxy = await phaseProxy(app.url);
    const client = await proxy.open();
    client.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 9\r\n\r\nabc');
    await new Promise((resolve) => setTimeout(resolve, 100));
    client.end();
    expect(await proxy.phasesOnClose()).toEqual(['idle', 'head', 'body', 'closing', 'closed']);
  });

  it('Connection: close: closing after the answer', async () => {
    const proxy = await phaseProxy((await rawApp()).url);
    const client = await proxy.open();
    client.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    await received(client, 'ok');
    client.end();
    expect(await proxy.phasesOnClose()).toEqual(['idle', 'head', 'body', 'exchanging', 'closing', 'closed']);
  });

  it('an open circuit answers at the head: body, then idle again without the app', async () => {
    const proxy = await phaseProxy(`http://127.0.0.1:${await closedPort()}`, { circuitBreaker: { volumeThreshold: 1, errorThresholdPercentage: 1 } });
    const client = await proxy.open();
    client.write(GET);
    await received(client, 'connect-failed');
    client.write(GET);
    await received(client, 'circuit-open');
    client.end();
    expect(await proxy.phasesOnClose()).toEqual(['idle', 'head', 'body', 'exchanging', 'idle', 'head', 'body', 'idle', 'closing', 'closed']);
  });

  it('an upgrade answered with 101: exchanging, then a tunnel until either side closes', async () => {
    const app = await rawApp(async (connection) => {
      await connection.nextRequest();
      await connection.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\n');
    });
    const proxy = await phaseProxy(app.url);
    const client = await proxy.open();
    client.write('GET / HTTP/1.1\r\nhost: x\r\nupgrade: echo\r\nconnection: upgrade\r\n\r\n');
    await received(client, '101 Switching Protocols');
    client.destroy();
    expect(await proxy.phasesOnClose()).toEqual(['idle', 'head', 'body', 'exchanging', 'tunnel', 'closed']);
  });

  it('a request the limiter queues: queued, then body once granted; one whose client leaves: closed from queued', async () => {
    let answerFirst = (): void => undefined;
    const held = new Promise<void>((resolve) => { answerFirst = resolve; });
    const app = await rawApp(async (connection) => {
      for (;;) {
        await connection.nextRequest();
        await held;
        await connection.write(OK_RESPONSE);
      }
    });
    // The long wait only (target = timeout): a queue that stands past its interval would shed a waiter here.
    const proxy = await phaseProxy(app.url, { overload: { mode: 'enforce', limit: 1, queue: { size: 10, timeout: '5s', target: '5s' } } });
    const first = await proxy.open();
    first.write(GET);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await proxy.open();
    second.write(GET);
    const leaving = await proxy.open();
    leaving.write(GET);
    await new Promise((resolve) => setTimeout(resolve, 100));
    leaving.resetAndDestroy();
    expect(await proxy.phasesOnClose(2)).toEqual(['idle', 'head', 'queued', 'closed']);
    answerFirst();
    await received(first, 'ok');
    await received(second, 'ok');
    first.end();
    second.end();
    expect(await proxy.phasesOnClose(1)).toEqual(['idle', 'head', 'queued', 'body', 'exchanging', 'idle', 'closing', 'closed']);
  });
});

afterAll(() => {
  // Every change the scenarios made is one the table allows, and every change it allows was seen
  // but those no scenario here can force (named, so a new one is a decision).
  const allowed = new Set(Object.entries(NEXT_PHASES).flatMap(([from, next]) => next.map((to) => `${from}>${to}`)));
  for (const change of seen) expect(allowed.has(change)).toBe(true);
  const unforced = ['body>idle', 'body>tunnel', 'queued>closing', 'tunnel>closed', 'closing>closed'];
  expect([...allowed].filter((change) => !seen.has(change as Change)).sort()).toEqual(unforced.filter((change) => !seen.has(change as Change)).sort());
});

/**
 * App side of docs/errors.md, with a scripted raw-TCP app: every misbehaviour is a well-formed
 * 502/504 with its reason before the head, an aborted client connection after it, and the
 * breaker and metrics see what the app really did.
 */
import { describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { closedPort } from '../../support/faulty-upstream.js';
import { RawClient, rawExchange, type RawReply } from '../../support/raw-client.js';
import { answerEach } from '../../support/raw-upstream.js';
import { sidecarFixtures } from '../../support/sidecar-harness.js';
import { APP_CASES, type Outcome } from './app-side.cases.js';
import { CONFORMANCE_POLICY, expectOneRequestMetric, expectSidecarAnswer, GET, onlyResponse } from './conformance.js';

const fixtures = sidecarFixtures();

async function exchange(port: number, request: string, outcome: Outcome): Promise<RawReply> {
  const client = await RawClient.open(port);
  try {
    await client.write(request);
    return outcome.kind === 'aborted' ? await client.closed(5_000) : await client.responses(1, 5_000);
  } finally {
    client.destroy();
  }
}

function expectOutcome(reply: RawReply, outcome: Outcome): void {
  const response = onlyResponse(reply);
  switch (outcome.kind) {
    case 'sidecar':
      expectSidecarAnswer(response, outcome.status, outcome.reason, outcome.proxyError);
      return;
    case 'app':
      expect({
        statuses: reply.messages.map((message) => message.status),
        complete: response.complete,
        body: response.body.toString('latin1'),
      }).toEqual({
        statuses: [...(outcome.interim ?? []), outcome.status],
        complete: true,
        body: outcome.body ?? expect.any(String),
      });
      return;
    case 'aborted':
      // The head went out; the body must not look complete, and the connection must end.
      expect({ status: response.status, complete: response.complete, closed: reply.closed })
        .toEqual({ status: outcome.status, complete: false, closed: true });
  }
}

describe('app side: what the app answered', () => {
  it.each(APP_CASES)('$name', async ({ answer, request = GET, outcome, appRequests = 1, breaker }) => {
    const app = await fixtures.rawUpstream(typeof answer === 'string' ? answerEach(answer) : answer);
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);

    expectOutcome(await exchange(sidecar.address.port, request, outcome), outcome);
    expect(sidecar.metrics.clientConnectionErrors).toEqual([]); // the client did nothing wrong
    expect(app.requests.filter((received) => received.complete)).toHaveLength(appRequests);
    expectOneRequestMetric(sidecar, outcome.status, outcome.kind === 'app' ? '' : outcome.reason);

    // The same again: the same answer (a reused connection carries nothing over), and two
    // failures open the circuit while two successes keep it closed.
    expectOutcome(await exchange(sidecar.address.port, request, outcome), outcome);
    expect(sidecar.proxy.breakerState()).toBe(breaker === 'failure' ? 'open' : 'closed');
  });

  it('a refused connection: 502 connect-failed, counted', async () => {
    const sidecar = await fixtures.sidecar(`http://127.0.0.1:${await closedPort()}`, CONFORMANCE_POLICY);
    for (let index = 0; index < 2; index += 1) {
      const reply = await rawExchange(sidecar.address.port, 'GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
      expectSidecarAnswer(onlyResponse(reply), 502, 'connect-failed', 'connection_refused');
    }
    expect(sidecar.proxy.breakerState()).toBe('open');
  });

  it('a request with a body is never retried, even when the app closes before answering', async () => {
    const app = await fixtures.rawUpstream(async (connection) => {
      await connection.nextRequest();
      connection.end();
    });
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const reply = await rawExchange(sidecar.address.port, 'PUT / HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 2\r\n\r\nab');
    expectSidecarAnswer(onlyResponse(reply), 502, 'reset', 'connection_terminated');
    expect(app.requests).toHaveLength(1);
  });

  it('drops interim responses for an HTTP/1.0 client', async () => {
    const app = await fixtures.rawUpstream(answerEach('HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const reply = await rawExchange(sidecar.address.port, 'GET / HTTP/1.0\r\nhost: x\r\n\r\n');
    expect(reply.messages.map((message) => message.status)).toEqual([200]);
  });

  it('drops the app\'s 100 Continue when the client asked for one (the sidecar sent its own)', async () => {
    const app = await fixtures.rawUpstream(answerEach('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const client = await RawClient.open(sidecar.address.port);
    try {
      await client.write('PUT / HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 2\r\n\r\n');
      await client.until((reply) => reply.messages.length > 0, 3_000);
      await client.write('ab');
      const reply = await client.responses(1);
      expect(reply.messages.map((message) => message.status)).toEqual([100, 200]);
    } finally {
      client.destroy();
    }
  });

  it('strips hop-by-hop response fields, and those the app\'s Connection names', async () => {
    const app = await fixtures.rawUpstream(answerEach('HTTP/1.1 200 OK\r\nconnection: x-internal\r\nx-internal: secret\r\nkeep-alive: timeout=5\r\n'
      + 'proxy-authenticate: Basic\r\ntrailer: x-t\r\nupgrade: h2c\r\nx-kept: yes\r\ncontent-length: 2\r\n\r\nok'));
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const reply = await rawExchange(sidecar.address.port, 'GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    const names = onlyResponse(reply).fields.map(([name]) => name.toLowerCase());
    for (const name of ['x-internal', 'keep-alive', 'proxy-authenticate', 'trailer', 'upgrade']) expect(names).not.toContain(name);
    expect(names).toContain('x-kept');
  });

  it('does not reuse an app connection the app asked to close, and keeps the client\'s open', async () => {
    const app = await fixtures.rawUpstream(async (connection) => {
      await connection.nextRequest();
      connection.end('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok');
    });
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const client = await RawClient.open(sidecar.address.port);
    try {
      await client.write(GET);
      await client.responses(1);
      await client.write(GET);
      const reply = await client.responses(2);
      expect([reply.closed, reply.responses.map((response) => response.status), app.connections]).toEqual([false, [200, 200], 2]);
    } finally {
      client.destroy();
    }
  });

  it('applies backpressure: a client that does not read holds the app back, then gets every byte', async () => {
    const total = 128 * 1024 * 1024;
    const piece = Buffer.alloc(64 * 1024, 'x');
    let written = 0;
    const app = await fixtures.rawUpstream(async (connection) => {
      await connection.nextRequest();
      await connection.write(`HTTP/1.1 200 OK\r\ncontent-length: ${total}\r\n\r\n`);
      while (written < total && !connection.socket.destroyed) {
        await connection.write(piece);
        written += piece.length;
      }
    });
    const sidecar = await fixtures.sidecar(app.url, { ...CONFORMANCE_POLICY, timeouts: { ...CONFORMANCE_POLICY.timeouts, responseBodyIdle: '30s' } });
    const client = connect(sidecar.address.port, '127.0.0.1');
    try {
      let received = 0;
      client.on('error', () => undefined);
      await new Promise<void>((resolve) => client.once('connect', () => resolve()));
      client.write(GET);
      await new Promise<void>((resolve) => client.once('readable', () => resolve()));
      client.pause();
      // Wait until the app can write no more (bounded); without backpressure it writes it all.
      for (let checks = 0; checks < 40; checks += 1) {
        const before = written;
        await new Promise((resolve) => setTimeout(resolve, 500));
        if (written === before || written >= total) break;
      }
      // Kernel and stream buffers on both sockets hold some megabytes; never the whole body.
      expect(written).toBeLessThan(total / 2);
      const done = new Promise<void>((resolve) => {
        client.on('data', (data: Buffer) => {
          received += data.length;
          if (received >= total) resolve();
        });
        client.on('close', () => resolve());
      });
      client.resume();
      await done;
      expect(received).toBeGreaterThan(total);
    } finally {
      client.destroy();
    }
  }, 60_000);
});

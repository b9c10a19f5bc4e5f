/**
 * Client side of docs/errors.md, with raw bytes: what the sidecar refuses itself (a 4xx, never the
 * app, never the breaker) and what it forwards, normalised.
 */
import { describe, expect, it } from '@jest/globals';
import { RawClient, rawExchange } from '../../support/raw-client.js';
import { field } from '../../support/raw-http.js';
import { answerEach, OK_RESPONSE } from '../../support/raw-upstream.js';
import { sidecarFixtures } from '../../support/sidecar-harness.js';
import { FORWARDED, REFUSED } from './client-side.cases.js';
import { CONFORMANCE_POLICY, expectOneRequestMetric, expectSidecarAnswer, onlyResponse } from './conformance.js';

const fixtures = sidecarFixtures();

/** The app's answer: a 200 with a body, head only for HEAD. */
const appAnswer = answerEach((request) => (request.method === 'HEAD'
  ? 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\n'
  : OK_RESPONSE));

async function setup(config: unknown = CONFORMANCE_POLICY) {
  const app = await fixtures.rawUpstream(appAnswer);
  const sidecar = await fixtures.sidecar(app.url, config);
  return { app, sidecar };
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return condition();
}

/** A 503 the breaker counts: two of them open the circuit of CONFORMANCE_POLICY. */
const FAILING_APP = answerEach('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\ndown');

describe('client side: requests the sidecar refuses itself', () => {
  it.each(REFUSED)('$name → $status, closed, app untouched, breaker untouched', async ({ request, status }) => {
    const { app, sidecar } = await setup();
    const reply = await rawExchange(sidecar.address.port, request, 3_000);
    expectSidecarAnswer(onlyResponse(reply), status, 'client-refused', 'http_request_error');
    expect(reply.closed).toBe(true);
    expect(app.requests.filter((received) => received.complete)).toEqual([]);
    expect(sidecar.proxy.breakerState()).toBe('closed');
    expectOneRequestMetric(sidecar, status, 'client-refused');
  });

  it('is not counted by the breaker at all: 20 hostile requests, then two app failures open the circuit', async () => {
    const app = await fixtures.rawUpstream(FAILING_APP);
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    for (let index = 0; index < 20; index += 1) {
      const { request, status } = REFUSED[index % REFUSED.length]!;
      const reply = await rawExchange(sidecar.address.port, request, 3_000);
      // The sidecar's own refusal (505 included), never a 502 from a forwarded request.
      expect(reply.responses[0]?.status).toBe(status);
    }
    expect(sidecar.proxy.breakerState()).toBe('closed');
    expect(app.requests.filter((received) => received.complete)).toEqual([]);
    // Had the refusals counted as successes, 2 failures in 22 would leave the circuit closed.
    for (let index = 0; index < 2; index += 1) await rawExchange(sidecar.address.port, 'GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(sidecar.proxy.breakerState()).toBe('open');
  });

  it('refuses a malformed request even while the circuit is open', async () => {
    const app = await fixtures.rawUpstream(FAILING_APP);
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    for (let index = 0; index < 2; index += 1) await rawExchange(sidecar.address.port, 'GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    expect(sidecar.proxy.breakerState()).toBe('open');
    const reply = await rawExchange(sidecar.address.port, 'GET / HTTP/1.1\r\nx-no-host: 1\r\n\r\n');
    expectSidecarAnswer(onlyResponse(reply), 400, 'client-refused', 'http_request_error');
  });
});

describe('client side: requests the sidecar forwards', () => {
  it.each(FORWARDED)('$name', async ({ request, policy, responses = 1, app: check }) => {
    const { app, sidecar } = await setup(policy);
    const client = await RawClient.open(sidecar.address.port);
    try {
      await client.write(request);
      const reply = await client.responses(responses);
      expect(reply.responses.map((response) => [response.status, response.complete])).toEqual(Array.from({ length: responses }, () => [200, true]));
      for (const response of reply.responses) expect(field(response, 'x-request-id')).toMatch(/^[\x21-\x7e]+$/);
      check(app.requests);
      expect(sidecar.metrics.requests).toEqual(Array.from({ length: responses }, () => ({ code: 200, reason: '' })));
    } finally {
      client.destroy();
    }
  });

  it('returns the request id the app was sent, on each pipelined response', async () => {
    const { app, sidecar } = await setup();
    const client = await RawClient.open(sidecar.address.port);
    try {
      await client.write('GET /a HTTP/1.1\r\nhost: x\r\nx-request-id: first\r\n\r\nGET /b HTTP/1.1\r\nhost: x\r\n\r\n');
      const reply = await client.responses(2);
      const sent = app.requests.map((request) => field(request, 'x-request-id'));
      expect(reply.responses.map((response) => field(response, 'x-request-id'))).toEqual(sent);
      expect(sent[0]).toBe('first');
    } finally {
      client.destroy();
    }
  });

  it('applies a reloaded trustedProxies to the next request of an open connection', async () => {
    const { app, sidecar } = await setup();
    const client = await RawClient.open(sidecar.address.port);
    try {
      const spoofing = 'GET / HTTP/1.1\r\nhost: x\r\nx-forwarded-proto: https\r\n\r\n';
      await client.write(spoofing);
      await client.responses(1);
      sidecar.setConfig({ ...CONFORMANCE_POLICY, trustedProxies: ['127.0.0.1'] });
      await client.write(spoofing);
      await client.responses(2);
      sidecar.setConfig(CONFORMANCE_POLICY);
      await client.write(spoofing);
      await client.responses(3);
      expect(app.requests.map((request) => field(request, 'x-forwarded-proto'))).toEqual(['http', 'https', 'http']);
    } finally {
      client.destroy();
    }
  });

  it('keeps the client connection alive between requests', async () => {
    const { sidecar } = await setup();
    const client = await RawClient.open(sidecar.address.port);
    try {
      await client.write('GET /1 HTTP/1.1\r\nhost: x\r\n\r\n');
      await client.responses(1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      await client.write('GET /2 HTTP/1.1\r\nhost: x\r\n\r\n');
      const reply = await client.responses(2);
      expect([reply.closed, reply.responses.map((response) => response.status)]).toEqual([false, [200, 200]]);
    } finally {
      client.destroy();
    }
  });
});

describe('client side: a client that goes away', () => {
  it.each([
    ['closes mid-body', 'PUT /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nabc', 'end'],
    ['resets mid-body', 'PUT /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nabc', 'reset'],
    ['resets while waiting for the response', 'GET /slow HTTP/1.1\r\nhost: x\r\n\r\n', 'reset'],
  ] as const)('a client that %s: the app\'s connection is aborted, nothing counted against the app, kind reset', async (_name, request, how) => {
    const app = await fixtures.rawUpstream(async (connection) => { await connection.nextRequest(); });
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    for (let index = 0; index < 2; index += 1) {
      const client = await RawClient.open(sidecar.address.port);
      await client.write(request);
      expect(await waitUntil(() => app.connections === index + 1, 2_000)).toBe(true);
      if (how === 'end') client.end();
      else client.reset();
    }
    expect(await waitUntil(() => app.openConnections === 0, 3_000)).toBe(true);
    expect(sidecar.proxy.breakerState()).toBe('closed');
    expect(sidecar.metrics.requests.filter((entry) => entry.code >= 500)).toEqual([]);
    expect(await waitUntil(() => sidecar.metrics.clientConnectionErrors.length === 2, 2_000)).toBe(true);
    expect(sidecar.metrics.clientConnectionErrors).toEqual(['reset', 'reset']);
  });
});

describe('client side: a malformed chunk after the app answered', () => {
  it('closes the client connection, aborts the app\'s, counts nothing against the app', async () => {
    const app = await fixtures.rawUpstream(async (connection) => {
      // Answer as soon as the head is in, before the body: a streaming app.
      while (!connection.socket.destroyed && !connection.requests().some((request) => request.headComplete)) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await connection.write('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n');
    });
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const client = await RawClient.open(sidecar.address.port);
    try {
      await client.write('POST /stream HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n');
      await client.until((reply) => reply.messages.length > 0, 3_000);
      await client.write('zz\r\n');
      const reply = await client.closed(3_000);
      expect([reply.responses[0]?.status, reply.responses[0]?.complete, reply.closed]).toEqual([200, false, true]);
      expect(await waitUntil(() => app.openConnections === 0, 2_000)).toBe(true);
      expect(sidecar.proxy.breakerState()).toBe('closed');
      expectOneRequestMetric(sidecar, 200, 'client-refused');
    } finally {
      client.destroy();
    }
  });
});

describe('client side: Expect: 100-continue', () => {
  it.each([
    ['a small body', 5],
    ['a 2 MiB body (curl sends Expect above 1 MiB)', 2 * 1024 * 1024],
  ])('with %s: 100 Continue first, then the body reaches the app without Expect, then the final response', async (_name, size) => {
    // The scripted app re-reads all it received on every read: give it time for 2 MiB on a busy machine.
    const { app, sidecar } = await setup({ ...CONFORMANCE_POLICY, timeouts: { ...CONFORMANCE_POLICY.timeouts, response: '10s' } });
    const client = await RawClient.open(sidecar.address.port);
    try {
      await client.write(`PUT /upload HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: ${size}\r\n\r\n`);
      const interim = await client.until((reply) => reply.messages.length > 0, 3_000);
      expect(interim.messages.map((message) => message.status)).toEqual([100]);
      await client.write(Buffer.alloc(size, 'x'));
      const reply = await client.responses(1, 10_000);
      expect(reply.messages.map((message) => message.status)).toEqual([100, 200]);
      expect(app.requests).toHaveLength(1);
      expect([field(app.requests[0]!, 'expect'), app.requests[0]!.body.length]).toEqual([undefined, size]);
      expect(sidecar.proxy.breakerState()).toBe('closed');
      expectOneRequestMetric(sidecar, 200, '');
    } finally {
      client.destroy();
    }
  }, 30_000);

  it('while the circuit is open: the open status at once, no 100, the connection closed', async () => {
    const app = await fixtures.rawUpstream(FAILING_APP);
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    for (let index = 0; index < 2; index += 1) await rawExchange(sidecar.address.port, 'GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    const reply = await rawExchange(sidecar.address.port, 'PUT / HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 10\r\n\r\n');
    expect(reply.messages.map((message) => message.status)).toEqual([502]);
    expectSidecarAnswer(onlyResponse(reply), 502, 'circuit-open', 'destination_unavailable');
    expect(reply.closed).toBe(true);
    expect(app.requests).toHaveLength(2);
  });
});

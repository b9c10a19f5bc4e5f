/**
 * Body idle timeouts both ways and the response timeout across interim responses
 * (docs/errors.md). CONFORMANCE_POLICY sets both body idle timeouts to 400 ms.
 */
import { describe, expect, it } from '@jest/globals';
import { RawClient } from '../../support/raw-client.js';
import { answerEach } from '../../support/raw-upstream.js';
import { sidecarFixtures } from '../../support/sidecar-harness.js';
import { CONFORMANCE_POLICY, expectOneRequestMetric, expectSidecarAnswer, onlyResponse } from './conformance.js';

const fixtures = sidecarFixtures();

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return condition();
}

describe('request body idle timeout', () => {
  it.each([
    ['a Content-Length body', 'POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nabc'],
    ['a chunked body', 'POST /upload HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n'],
  ])('%s that stops arriving: 408 client-timeout, closed, the app\'s connection aborted, not counted', async (_name, request) => {
    const app = await fixtures.rawUpstream(answerEach('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const client = await RawClient.open(sidecar.address.port);
    try {
      await client.write(request);
      const reply = await client.closed(5_000);
      expectSidecarAnswer(onlyResponse(reply), 408, 'client-timeout', 'http_request_error');
      expect(reply.closed).toBe(true);
      expect(app.requests.filter((received) => received.complete)).toEqual([]);
      expect(await waitFor(() => app.openConnections === 0, 2_000)).toBe(true);
      expect(sidecar.proxy.breakerState()).toBe('closed');
      expectOneRequestMetric(sidecar, 408, 'client-timeout');
      expect(sidecar.metrics.clientConnectionErrors).toEqual(['body-timeout']);
    } finally {
      client.destroy();
    }
  });

  it('a body that keeps arriving slowly, each pause shorter than the timeout, is forwarded whole', async () => {
    const app = await fixtures.rawUpstream(answerEach('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'));
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const client = await RawClient.open(sidecar.address.port);
    try {
      await client.write('POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\n\r\n');
      for (const piece of ['a', 'b', 'c', 'd']) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        await client.write(piece);
      }
      const reply = await client.responses(1);
      expect(onlyResponse(reply).status).toBe(200);
      expect(app.requests[0]?.body.toString()).toBe('abcd');
    } finally {
      client.destroy();
    }
  });
});

describe('request head timeout', () => {
  it('a head that stops arriving: 408 client-timeout at the 15 s head timeout, closed, counted as header-timeout', async () => {
    const app = await fixtures.rawUpstream();
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const client = await RawClient.open(sidecar.address.port);
    try {
      await client.write('GET / HTTP/1.1\r\nhost: x\r\n');
      const reply = await client.closed(25_000);
      expectSidecarAnswer(onlyResponse(reply), 408, 'client-timeout', 'http_request_error');
      expect(app.requests).toEqual([]);
      expectOneRequestMetric(sidecar, 408, 'client-timeout');
      expect(sidecar.metrics.clientConnectionErrors).toEqual(['header-timeout']);
    } finally {
      client.destroy();
    }
  }, 40_000);
});

describe('response body idle timeout', () => {
  it('a body that stalls after the head: the client connection is aborted, counted as body-timeout', async () => {
    const app = await fixtures.rawUpstream(async (connection) => {
      await connection.nextRequest();
      await connection.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nsome');
    });
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const client = await RawClient.open(sidecar.address.port);
    try {
      await client.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
      const reply = await client.closed(5_000);
      expect([reply.closed, reply.responses[0]?.status, reply.responses[0]?.complete]).toEqual([true, 200, false]);
      expectOneRequestMetric(sidecar, 200, 'body-timeout');
      expect(await waitFor(() => app.openConnections === 0, 2_000)).toBe(true);
      expect(sidecar.metrics.clientConnectionErrors).toEqual([]); // the app stalled, not the client
    } finally {
      client.destroy();
    }
  });

  it('a body that keeps trickling, each pause shorter than the timeout, arrives whole', async () => {
    const app = await fixtures.rawUpstream(async (connection) => {
      await connection.nextRequest();
      await connection.write('HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n');
      for (const piece of ['a', 'b', 'c', 'd']) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        await connection.write(piece);
      }
    });
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const client = await RawClient.open(sidecar.address.port);
    try {
      await client.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
      const reply = await client.responses(1);
      expect([onlyResponse(reply).complete, onlyResponse(reply).body.toString()]).toEqual([true, 'abcd']);
      expectOneRequestMetric(sidecar, 200, '');
    } finally {
      client.destroy();
    }
  });
});

describe('response timeout', () => {
  it('keeps running across interim responses: endless 103s end in the timeout status', async () => {
    const app = await fixtures.rawUpstream(async (connection) => {
      await connection.nextRequest();
      for (let index = 0; index < 25 && !connection.socket.destroyed; index += 1) {
        await connection.write('HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n').catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    });
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const client = await RawClient.open(sidecar.address.port);
    try {
      await client.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
      const reply = await client.responses(1, 4_000);
      expectSidecarAnswer(onlyResponse(reply), 504, 'timeout', 'http_response_timeout');
      expect(reply.messages.filter((message) => message.status === 103).length).toBeGreaterThan(0);
      expectOneRequestMetric(sidecar, 504, 'timeout');
    } finally {
      client.destroy();
    }
  });
});

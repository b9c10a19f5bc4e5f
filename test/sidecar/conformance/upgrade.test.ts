/**
 * Upgrades (docs/errors.md): only the app's 101 makes a tunnel; any other answer is a normal
 * response and the client connection stays HTTP (or closes); timeouts apply until the 101; the
 * breaker sees the real outcome.
 */
import { describe, expect, it } from '@jest/globals';
import { closedPort } from '../../support/faulty-upstream.js';
import { RawClient, rawExchange } from '../../support/raw-client.js';
import { field, fieldValues } from '../../support/raw-http.js';
import { answerEach, OK_RESPONSE } from '../../support/raw-upstream.js';
import { sidecarFixtures } from '../../support/sidecar-harness.js';
import { CONFORMANCE_POLICY, expectOneRequestMetric, expectSidecarAnswer, onlyResponse } from './conformance.js';

const fixtures = sidecarFixtures();

const UPGRADE = 'GET /chat HTTP/1.1\r\nhost: app.example\r\nconnection: upgrade\r\nupgrade: websocket\r\nsec-websocket-version: 13\r\n'
  + 'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
const SWITCHING = 'HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n'
  + 'sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n';

describe('upgrades', () => {
  it('a 101 makes a tunnel both ways; the app got Connection and Upgrade; counted as a success', async () => {
    const app = await fixtures.rawUpstream(async (connection) => {
      await connection.nextRequest();
      await connection.write(SWITCHING);
      connection.socket.on('data', (data: Buffer) => connection.socket.write(Buffer.concat([Buffer.from('echo:'), data])));
    });
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const client = await RawClient.open(sidecar.address.port);
    try {
      await client.write(UPGRADE);
      await client.until((reply) => reply.messages.some((message) => message.status === 101));
      await client.write('ping');
      const reply = await client.until((reply) => reply.bytes.toString('latin1').endsWith('echo:ping'));
      expect(reply.messages[0]?.status).toBe(101);
      expect(reply.bytes.toString('latin1').endsWith('echo:ping')).toBe(true);
      const request = app.requests[0]!;
      expect([field(request, 'upgrade'), field(request, 'connection')?.toLowerCase()]).toEqual(['websocket', 'upgrade']);
      expect(field(request, 'x-request-id')).toBeDefined();
      expect(sidecar.proxy.breakerState()).toBe('closed');
    } finally {
      client.destroy();
    }
  });

  it('any other answer is a normal response, and what the client sends next is processed as HTTP', async () => {
    const app = await fixtures.rawUpstream(answerEach(OK_RESPONSE));
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const client = await RawClient.open(sidecar.address.port);
    try {
      await client.write(UPGRADE);
      const first = await client.responses(1);
      expect(first.responses[0]?.status).toBe(200);
      expect(first.responses[0] === undefined ? [] : fieldValues(first.responses[0], 'upgrade')).toEqual([]);
      await client.write('GET /second HTTP/1.1\r\nhost: app.example\r\nx-forwarded-for: 203.0.113.7\r\n\r\n');
      const reply = await client.responses(2, 3_000);
      // Either the sidecar closed the connection after the first response, or it answered the
      // second request as HTTP; never were the bytes passed to the app unprocessed.
      for (const request of app.requests) {
        expect(field(request, 'x-request-id')).toMatch(/^[\x21-\x7e]+$/);
        expect(field(request, 'x-forwarded-for')).toMatch(/127\.0\.0\.1$/);
      }
      expect(app.requests).toHaveLength(reply.responses.length);
      for (const response of reply.responses) expect(field(response, 'x-request-id')).toBeDefined();
    } finally {
      client.destroy();
    }
  });

  it('after a non-101 answer, a smuggling attempt on the same connection never reaches the app', async () => {
    const app = await fixtures.rawUpstream(answerEach(OK_RESPONSE));
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const client = await RawClient.open(sidecar.address.port);
    try {
      await client.write(UPGRADE);
      await client.responses(1);
      await client.write('POST /x HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n');
      const reply = await client.until((reply) => reply.responses.length >= 2, 3_000);
      expect(app.requests.map((request) => request.target)).toEqual(['/chat']);
      if (reply.responses.length >= 2) expect(reply.responses[1]?.status).toBe(400);
    } finally {
      client.destroy();
    }
  });

  it('an app that accepts the connection and never answers gets the response timeout, counted', async () => {
    const app = await fixtures.rawUpstream(async (connection) => { await connection.nextRequest(); });
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const reply = await rawExchange(sidecar.address.port, UPGRADE, 5_000);
    expectSidecarAnswer(onlyResponse(reply), 504, 'timeout', 'http_response_timeout');
    expectOneRequestMetric(sidecar, 504, 'timeout');
    await rawExchange(sidecar.address.port, UPGRADE, 5_000);
    expect(sidecar.proxy.breakerState()).toBe('open');
  });

  it('an app that closes before answering: 502 reset, not retried, counted', async () => {
    const app = await fixtures.rawUpstream(async (connection) => {
      await connection.nextRequest();
      connection.end();
    });
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const reply = await rawExchange(sidecar.address.port, UPGRADE);
    expectSidecarAnswer(onlyResponse(reply), 502, 'reset', 'connection_terminated');
    expect(app.requests).toHaveLength(1);
    expectOneRequestMetric(sidecar, 502, 'reset');
  });

  it('an invalid answer: 502 invalid-response', async () => {
    const app = await fixtures.rawUpstream(answerEach('HTTP/1.1 101 Switching\x01Protocols\r\n\r\n'));
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const reply = await rawExchange(sidecar.address.port, UPGRADE);
    expectSidecarAnswer(onlyResponse(reply), 502, 'invalid-response', 'http_protocol_error');
  });

  it('a refused connection: 502 connect-failed, counted', async () => {
    const sidecar = await fixtures.sidecar(`http://127.0.0.1:${await closedPort()}`, CONFORMANCE_POLICY);
    const reply = await rawExchange(sidecar.address.port, UPGRADE);
    expectSidecarAnswer(onlyResponse(reply), 502, 'connect-failed', 'connection_refused');
    expectOneRequestMetric(sidecar, 502, 'connect-failed');
  });

  it('while the circuit is open: the open status, the app untouched', async () => {
    const app = await fixtures.rawUpstream(answerEach('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n'));
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    for (let index = 0; index < 2; index += 1) await rawExchange(sidecar.address.port, 'GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
    const reply = await rawExchange(sidecar.address.port, UPGRADE);
    expectSidecarAnswer(onlyResponse(reply), 502, 'circuit-open', 'destination_unavailable');
    expect(app.requests).toHaveLength(2);
  });

  it('Upgrade in an HTTP/1.0 request is ignored and removed', async () => {
    const app = await fixtures.rawUpstream(answerEach(OK_RESPONSE));
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY);
    const reply = await rawExchange(sidecar.address.port, 'GET /chat HTTP/1.0\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n');
    expect(onlyResponse(reply).status).toBe(200);
    expect([field(app.requests[0]!, 'upgrade'), app.requests.length]).toEqual([undefined, 1]);
  });
});

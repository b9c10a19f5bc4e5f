import { describe, expect, it } from '@jest/globals';
import { connect as connectTcp } from 'node:net';
import { fetchText, sidecarFixtures } from '../../support/sidecar-harness.js';
import { h2Fixtures, h2Request } from '../../support/h2.js';
import { closedPort } from '../../support/faulty-upstream.js';

const noTrip = { circuitBreaker: { volumeThreshold: 1000 } };
const fixtures = sidecarFixtures();
const h2 = h2Fixtures();

describe('h2c with prior knowledge on the proxy port, HTTP/1.1 app', () => {
  it('carries HTTP/2 and HTTP/1.1 on the same port, recognised by the preface', async () => {
    const upstream = await fixtures.upstream();
    const sidecar = await h2.sidecar(upstream.url, noTrip);
    const reply = await h2Request(h2.client(sidecar.url), { ':path': '/hello?x=1', 'x-request-id': 'h2-1' });
    expect(reply.headers[':status']).toBe(200);
    expect(reply.body.toString()).toBe('hello from the app');
    expect(reply.headers['x-request-id']).toBe('h2-1');
    const http1 = await fetchText(`${sidecar.url}/plain`);
    expect(http1).toMatchObject({ status: 200, body: 'hello from the app' });
    expect(upstream.seen.map((seen) => seen.url)).toEqual(['/hello?x=1', '/plain']);
  });

  it('translates the head with the HTTP/1.1 hygiene: forwarded-for added, te dropped, traceparent untouched', async () => {
    const upstream = await fixtures.upstream();
    const sidecar = await h2.sidecar(upstream.url, noTrip);
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await h2Request(h2.client(sidecar.url), { ':path': '/', 'x-forwarded-for': '10.0.0.1', te: 'trailers', traceparent, ':authority': 'shop.example' });
    const seen = upstream.seen[0]?.headers ?? {};
    expect(seen['x-forwarded-for']).toBe('10.0.0.1, 127.0.0.1');
    expect(seen.te).toBeUndefined();
    expect(seen.traceparent).toBe(traceparent);
    expect(seen.host).toBe('shop.example');
    expect(seen['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('keeps X-Forwarded-Proto and -Host only from a trusted proxy, on HTTP/1.1 and h2c apps alike', async () => {
    const upstream = await fixtures.upstream();
    const app = await h2.app();
    const claims = { ':path': '/', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', ':authority': 'shop.example' };
    for (const trustedProxies of [[], ['127.0.0.1/32']]) {
      const toHttp1 = await h2.sidecar(upstream.url, { ...noTrip, trustedProxies });
      const toH2c = await h2.sidecar(app.url, { ...noTrip, trustedProxies }, 'h2c');
      await h2Request(h2.client(toHttp1.url), claims);
      await h2Request(h2.client(toH2c.url), claims);
    }
    const seen = [upstream.seen[0]?.headers, app.seen[0]?.headers, upstream.seen[1]?.headers, app.seen[1]?.headers];
    expect(seen.map((headers) => headers?.['x-forwarded-proto'])).toEqual(['http', 'http', 'https', 'https']);
    expect(seen.map((headers) => headers?.['x-forwarded-host'])).toEqual(['shop.example', 'shop.example', 'evil.example', 'evil.example']);
  });

  it('streams a request body without a length to the app chunked', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'echo' };
    const sidecar = await h2.sidecar(upstream.url, noTrip);
    const body = 'x'.repeat(100_000);
    const reply = await h2Request(h2.client(sidecar.url), { ':method': 'POST', ':path': '/echo' }, body);
    expect(reply.headers[':status']).toBe(200);
    expect(upstream.seen[0]).toMatchObject({ method: 'POST', bodyBytes: 100_000 });
    expect(upstream.seen[0]?.headers['transfer-encoding']).toBe('chunked');
  });

  it('accepts a preface split across writes (raw frames)', async () => {
    const upstream = await fixtures.upstream();
    const sidecar = await h2.sidecar(upstream.url, noTrip);
    const socket = connectTcp(sidecar.port, '127.0.0.1');
    socket.on('error', () => undefined);
    h2.track({ close: () => socket.destroy() });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('PRI * HTTP/2');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const settings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    // HEADERS on stream 1, END_STREAM|END_HEADERS: :method GET, :scheme http, :path / (static
    // table), :authority 127.0.0.1 (literal, indexed name).
    const block = Buffer.concat([Buffer.from([0x82, 0x86, 0x84, 0x01, 9]), Buffer.from('127.0.0.1', 'latin1')]);
    const headers = Buffer.concat([Buffer.from([0, 0, block.length, 1, 5, 0, 0, 0, 1]), block]);
    socket.write(Buffer.concat([Buffer.from('.0\r\n\r\nSM\r\n\r\n', 'latin1'), settings, headers]));
    const deadline = Date.now() + 5000;
    const frameTypes = (): number[] => {
      const bytes = Buffer.concat(received);
      const types: number[] = [];
      for (let offset = 0; offset + 9 <= bytes.length; offset += 9 + bytes.readUIntBE(offset, 3)) types.push(bytes[offset + 3] as number);
      return types;
    };
    while (!frameTypes().includes(1) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(frameTypes()[0]).toBe(4); // the server's SETTINGS: it speaks HTTP/2
    expect(frameTypes()).toContain(1); // HEADERS: the answer to stream 1
    expect(upstream.seen).toHaveLength(1);
  });

  it('answers an app that refuses connections with the error page and its reason', async () => {
    const sidecar = await h2.sidecar(`http://127.0.0.1:${await closedPort()}`, noTrip);
    const reply = await h2Request(h2.client(sidecar.url), { ':path': '/', accept: 'application/json' });
    expect(reply.headers[':status']).toBe(502);
    expect(reply.headers['x-badgateway-reason']).toBe('connect-failed');
    expect(reply.headers['proxy-status']).toBe('badgateway; error=connection_refused');
    expect(JSON.parse(reply.body.toString())).toMatchObject({ status: 502, reason: 'connect-failed' });
    expect(sidecar.metrics.requests).toEqual([{ code: 502, reason: 'connect-failed' }]);
  });

  it('aborts the stream (RST_STREAM) when the app fails mid-body, never a clean end', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'mid-body-failure' };
    const sidecar = await h2.sidecar(upstream.url, noTrip);
    const reply = await h2Request(h2.client(sidecar.url), { ':path': '/' });
    expect(reply.headers[':status']).toBe(200);
    expect(reply.rstCode).toBe(2); // INTERNAL_ERROR
    expect(sidecar.metrics.requests).toEqual([{ code: 200, reason: 'body-truncated' }]);
  });
});

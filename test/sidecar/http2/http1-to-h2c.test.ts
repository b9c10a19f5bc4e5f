import { describe, expect, it } from '@jest/globals';
import { request } from 'undici';
import { closedPort } from '../../support/faulty-upstream.js';
import { h2Fixtures } from '../../support/h2.js';
import { field } from '../../support/raw-http.js';
import { rawExchange } from '../../support/raw-client.js';

const noTrip = { circuitBreaker: { volumeThreshold: 1000 } };
const h2 = h2Fixtures();

describe('an HTTP/1.1 client to an h2c app', () => {
  it('is translated both ways with the same header hygiene', async () => {
    const app = await h2.app();
    app.handler = (stream) => {
      stream.respond({ ':status': 201, 'content-type': 'text/plain', 'x-app': 'yes' });
      stream.end('made');
    };
    const sidecar = await h2.sidecar(app.url, noTrip, 'h2c');
    const reply = await rawExchange(sidecar.port, 'POST /things?id=1 HTTP/1.1\r\nhost: shop.example\r\nx-request-id: h1-to-h2\r\n'
      + 'connection: close, x-hop\r\nx-hop: dropped\r\nx-forwarded-for: 10.1.1.1\r\nkeep-alive: timeout=5\r\ncontent-length: 7\r\n\r\npayload');
    const response = reply.responses[0]!;
    expect(response.status).toBe(201);
    expect(field(response, 'x-app')).toBe('yes');
    expect(field(response, 'x-request-id')).toBe('h1-to-h2');
    expect(field(response, 'transfer-encoding')).toBe('chunked');
    expect(response.body.toString()).toBe('made');
    const seen = app.seen[0];
    expect(seen?.headers).toMatchObject({ ':method': 'POST', ':path': '/things?id=1', 'x-request-id': 'h1-to-h2', 'x-forwarded-for': '10.1.1.1, 127.0.0.1' });
    expect(seen?.headers[':authority']).toBe('shop.example');
    expect(seen?.headers['content-length']).toBe('7');
    expect(seen?.headers['x-hop']).toBeUndefined();
    expect(seen?.headers['keep-alive']).toBeUndefined();
    expect(seen?.body.toString()).toBe('payload');
  });

  it('keeps the app\'s Content-Length and serves several requests on one connection', async () => {
    const app = await h2.app();
    app.handler = (stream, headers) => {
      stream.respond({ ':status': 200, 'content-length': String(String(headers[':path']).length) });
      stream.end(String(headers[':path']));
    };
    const sidecar = await h2.sidecar(app.url, noTrip, 'h2c');
    const reply = await rawExchange(sidecar.port, 'GET /one HTTP/1.1\r\nhost: a\r\n\r\nGET /two HTTP/1.1\r\nhost: a\r\nconnection: close\r\n\r\n');
    expect(reply.responses.map((message) => message.body.toString())).toEqual(['/one', '/two']);
    expect(reply.responses.map((message) => field(message, 'content-length'))).toEqual(['4', '4']);
    expect(reply.responses.map((message) => field(message, 'transfer-encoding'))).toEqual([undefined, undefined]);
    expect(app.sessions).toBe(1);
  });

  it('answers a refused connection with the error page', async () => {
    const sidecar = await h2.sidecar(`http://127.0.0.1:${await closedPort()}`, noTrip, 'h2c');
    const response = await request(sidecar.url, { headers: { accept: 'application/json' } });
    expect(response.statusCode).toBe(502);
    expect(response.headers['x-badgateway-reason']).toBe('connect-failed');
    expect(JSON.parse(await response.body.text())).toMatchObject({ status: 502, reason: 'connect-failed' });
  });

  it('aborts the client connection when the app resets the stream mid-body', async () => {
    const app = await h2.app();
    app.handler = (stream) => {
      stream.respond({ ':status': 200 });
      stream.write('partial');
      setTimeout(() => stream.destroy(new Error('the app crashed')), 20);
    };
    const sidecar = await h2.sidecar(app.url, noTrip, 'h2c');
    const response = await request(sidecar.url);
    expect(response.statusCode).toBe(200);
    await expect(response.body.text()).rejects.toThrow();
    expect(sidecar.metrics.requests).toEqual([{ code: 200, reason: 'body-truncated' }]);
  });
});

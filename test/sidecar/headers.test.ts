import { describe, expect, it } from '@jest/globals';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request } from 'undici';
import { sidecarFixtures } from '../support/sidecar-harness.js';

const fixtures = sidecarFixtures();

function rawGet(url: string, headers: Record<string, string>): Promise<{ headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve({ headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('header handling', () => {
  it('drops hop-by-hop headers (and those named in Connection) both ways, sets X-Forwarded-*', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'ok', headers: { 'x-app': 'yes', 'x-secret-hop': 'drop me', connection: 'x-secret-hop', 'proxy-authenticate': 'Basic' } };
    const sidecar = await fixtures.sidecar(upstream.url);
    // node:http as the client: undici refuses to send Connection/Keep-Alive headers itself.
    const response = await rawGet(`${sidecar.url}/path`, {
        connection: 'keep-alive, x-hop',
        'x-hop': 'should not pass',
        'keep-alive': 'timeout=5',
        'proxy-authorization': 'Basic c2VjcmV0',
        te: 'trailers',
        'x-forwarded-for': '203.0.113.7',
        'x-custom': 'kept',
        host: 'shop.example',
    });
    const seen = upstream.seen[0]!.headers;
    expect(seen['x-hop']).toBeUndefined();
    expect(seen['proxy-authorization']).toBeUndefined();
    expect(seen['te']).toBeUndefined();
    expect(seen['x-custom']).toBe('kept');
    expect(seen.host).toBe('shop.example');
    expect(seen['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1');
    expect(seen['x-forwarded-proto']).toBe('http');
    expect(seen['x-forwarded-host']).toBe('shop.example');
    expect(response.headers['x-app']).toBe('yes');
    expect(response.headers['x-secret-hop']).toBeUndefined();
    expect(response.headers['proxy-authenticate']).toBeUndefined();
  });

  it('keeps an incoming x-request-id, or generates one, and sends it both ways', async () => {
    const upstream = await fixtures.upstream();
    const sidecar = await fixtures.sidecar(upstream.url);
    const kept = await request(sidecar.url, { headers: { 'x-request-id': 'trace-1' } });
    await kept.body.text();
    expect(kept.headers['x-request-id']).toBe('trace-1');
    expect(upstream.seen[0]!.headers['x-request-id']).toBe('trace-1');
    const generated = await request(sidecar.url);
    await generated.body.text();
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(upstream.seen[1]!.headers['x-request-id']).toBe(generated.headers['x-request-id']);
  });

  it("answers with the request's id, not one the app made up, and passes repeated headers through", async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'ok', headers: { 'x-request-id': 'app-made-this', 'set-cookie': ['a=1', 'b=2'], vary: 'accept' } };
    const sidecar = await fixtures.sidecar(upstream.url);
    const response = await request(sidecar.url, { headers: { 'x-request-id': 'trace-2' } });
    await response.body.text();
    expect(response.headers['x-request-id']).toBe('trace-2');
    expect(response.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(response.headers.vary).toBe('accept');
  });
});

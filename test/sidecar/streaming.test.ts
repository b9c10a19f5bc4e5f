import { describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { sidecarFixtures } from '../support/sidecar-harness.js';

const fixtures = sidecarFixtures();

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('streaming', () => {
  it('streams a 5 MiB chunked request body through and the 5 MiB echo back, byte for byte', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'echo' };
    const sidecar = await fixtures.sidecar(upstream.url);
    const payload = randomBytes(5 * 1024 * 1024);
    const chunks = Array.from({ length: 80 }, (_, index) => payload.subarray(index * 65536, (index + 1) * 65536));
    const response = await request(`${sidecar.url}/upload`, { method: 'POST', body: Readable.from(chunks) });
    const echoed = Buffer.from(await response.body.arrayBuffer());
    expect(response.statusCode).toBe(200);
    expect(upstream.seen[0]!.bodyBytes).toBe(payload.length);
    expect(upstream.seen[0]!.headers['transfer-encoding']).toBe('chunked');
    expect(sha(echoed)).toBe(sha(payload));
  });

  it('does not retry a request whose body was streamed (POST to a resetting app)', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'reset' };
    const sidecar = await fixtures.sidecar(upstream.url, { circuitBreaker: { volumeThreshold: 1000 } });
    const response = await request(sidecar.url, { method: 'POST', body: 'order=1' });
    await response.body.text();
    expect(response.statusCode).toBe(502);
    expect(upstream.seen).toHaveLength(1);
  });
});

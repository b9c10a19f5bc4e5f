import { describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { request } from 'undici';
import { sidecarFixtures } from '../support/sidecar-harness.js';

const fixtures = sidecarFixtures();

/** Sends raw bytes and returns everything the sidecar answers before closing. */
function raw(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(payload));
    let answer = '';
    socket.on('data', (data) => { answer += data.toString('latin1'); });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')));
  });
}

async function stillServing(url: string): Promise<number> {
  const response = await request(url);
  await response.body.text();
  return response.statusCode;
}

describe('hardening', () => {
  it('rejects an oversized request head with 431 and keeps serving', async () => {
    const upstream = await fixtures.upstream();
    const sidecar = await fixtures.sidecar(upstream.url, {}, 8 * 1024);
    const answer = await raw(sidecar.address.port, `GET / HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(16 * 1024)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(upstream.seen).toHaveLength(0);
    expect(await stillServing(sidecar.url)).toBe(200);
  });

  it('answers a slowloris client trickling header lines with 408 at the 15 s header timeout and keeps serving', async () => {
    const upstream = await fixtures.upstream();
    const sidecar = await fixtures.sidecar(upstream.url);
    const started = performance.now();
    const answer = await new Promise<{ text: string; ms: number }>((resolve, reject) => {
      const socket = connect(sidecar.address.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nhost: x\r\n'));
      const trickle = setInterval(() => socket.writable && socket.write('x-slow: a\r\n'), 500);
      let text = '';
      socket.on('data', (data) => { text += data.toString('latin1'); });
      socket.on('close', () => {
        clearInterval(trickle);
        resolve({ text, ms: performance.now() - started });
      });
      socket.on('error', () => undefined);
      setTimeout(() => {
        clearInterval(trickle);
        socket.destroy();
        reject(new Error('the slow client was not cut off within 25 s'));
      }, 25_000).unref();
    });
    expect(answer.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(answer.ms).toBeGreaterThan(14_000);
    expect(answer.ms).toBeLessThan(20_000);
    expect(upstream.seen).toHaveLength(0);
    expect(await stillServing(sidecar.url)).toBe(200);
  }, 40_000);

  it('rejects Content-Length together with Transfer-Encoding (smuggling) with 400', async () => {
    const upstream = await fixtures.upstream();
    const sidecar = await fixtures.sidecar(upstream.url);
    const answer = await raw(sidecar.address.port,
      'POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(upstream.seen.map((seen) => seen.url)).not.toContain('/smuggled');
    expect(await stillServing(sidecar.url)).toBe(200);
  });

  it('rejects garbage with 400', async () => {
    const upstream = await fixtures.upstream();
    const sidecar = await fixtures.sidecar(upstream.url);
    expect(await raw(sidecar.address.port, 'HELLO\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await stillServing(sidecar.url)).toBe(200);
  });
});

describe('drain', () => {
  it('lets an in-flight request finish, answers it with Connection: close, refuses new connections', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'slow', delayMs: 400 };
    const sidecar = await fixtures.sidecar(upstream.url);
    const inFlight = request(sidecar.url);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const drained = sidecar.proxy.drain(5000);
    const response = await inFlight;
    expect(await response.body.text()).toBe('slow answer');
    expect(response.headers.connection).toBe('close');
    expect(await drained).toEqual({ completed: true });
    await expect(request(sidecar.url)).rejects.toThrow();
  });

  it('gives up at the drain timeout', async () => {
    const upstream = await fixtures.upstream();
    upstream.mode = { kind: 'hang' };
    const sidecar = await fixtures.sidecar(upstream.url);
    const inFlight = request(sidecar.url).catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await sidecar.proxy.drain(200)).toEqual({ completed: false });
    expect(await inFlight).toBeInstanceOf(Error);
  });
});

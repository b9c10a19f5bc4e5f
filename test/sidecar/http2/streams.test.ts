import { describe, expect, it } from '@jest/globals';
import type { ClientHttp2Stream } from 'node:http2';
import { eventually } from '../../support/cli.js';
import { grpcFrame, grpcHeaders, h2Fixtures, h2Request } from '../../support/h2.js';

const noTrip = { circuitBreaker: { volumeThreshold: 1000 } };
const h2 = h2Fixtures();

function collect(stream: ClientHttp2Stream): Promise<{ body: Buffer; trailers: Record<string, unknown> | undefined }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let trailers: Record<string, unknown> | undefined;
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('trailers', (received) => { trailers = received; });
    stream.on('close', () => resolve({ body: Buffer.concat(chunks), trailers }));
  });
}

describe('HTTP/2 streams through the sidecar', () => {
  it('bidirectional streaming: each message is answered while the call stays open', async () => {
    const app = await h2.app();
    app.handler = (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('data', (chunk: Buffer) => stream.write(chunk)); // ping-pong
      stream.on('end', () => stream.end());
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    };
    const sidecar = await h2.sidecar(app.url, noTrip, 'h2c');
    const call = h2.client(sidecar.url).request(grpcHeaders('/svc/Chat'));
    const done = collect(call);
    for (let round = 0; round < 5; round += 1) {
      const echoed = new Promise<Buffer>((resolve) => call.once('data', resolve));
      call.write(grpcFrame(`ping ${round}`));
      expect((await echoed).subarray(5).toString()).toBe(`ping ${round}`);
    }
    call.end();
    expect((await done).trailers?.['grpc-status']).toBe('0');
  });

  it('an empty client stream (no DATA before END_STREAM) still reaches the app\'s end', async () => {
    const app = await h2.app();
    app.handler = (stream) => {
      stream.resume();
      stream.on('end', () => stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '0' }, { endStream: true }));
    };
    const sidecar = await h2.sidecar(app.url, noTrip, 'h2c');
    const call = h2.client(sidecar.url).request(grpcHeaders('/svc/Empty'));
    call.end(); // HEADERS, then an empty DATA frame with END_STREAM
    const head = await new Promise<Record<string, unknown>>((resolve) => call.once('response', resolve));
    expect(head['grpc-status']).toBe('0');
  });

  it('backpressure: a client that stops reading stops the app; every byte arrives once it reads again', async () => {
    const app = await h2.app();
    const total = 32 * 1024 * 1024;
    let written = 0;
    app.handler = (stream) => {
      stream.respond({ ':status': 200 });
      const piece = Buffer.alloc(64 * 1024, 7);
      const pump = (): void => {
        while (written < total) {
          written += piece.length;
          if (!stream.write(piece)) {
            stream.once('drain', pump);
            return;
          }
        }
        stream.end();
      };
      pump();
    };
    const sidecar = await h2.sidecar(app.url, noTrip, 'h2c');
    const call = h2.client(sidecar.url).request({ ':path': '/big' });
    call.pause();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(written).toBeLessThan(1024 * 1024); // flow-control windows and socket buffers, not the body
    let received = 0;
    call.on('data', (chunk: Buffer) => { received += chunk.length; });
    call.resume();
    await new Promise((resolve) => call.on('end', resolve));
    expect(received).toBe(total);
  });

  it('a gRPC stream with its head no longer holds a limiter slot', async () => {
    const app = await h2.app();
    app.handler = (stream, headers) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      if (headers[':path'] === '/svc/Watch') stream.write(grpcFrame('update')); // a long server stream
      else stream.end(grpcFrame('done'));
    };
    const sidecar = await h2.sidecar(app.url, { ...noTrip, overload: { mode: 'enforce', limit: 1, queue: { size: 0 } } }, 'h2c');
    const client = h2.client(sidecar.url);
    const watch = client.request(grpcHeaders('/svc/Watch'));
    watch.end(grpcFrame(''));
    await new Promise((resolve) => watch.once('data', resolve));
    const unary = await h2Request(client, grpcHeaders('/svc/Get'), grpcFrame(''));
    expect(unary.headers['x-badgateway-reason']).toBeUndefined();
    expect(unary.trailers?.['grpc-status']).toBe('0');
    watch.close();
  });

  it('drain sends GOAWAY: the stream in flight finishes, the drain completes', async () => {
    const app = await h2.app();
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => { release = resolve; });
    app.handler = (stream) => void released.then(() => {
      stream.respond({ ':status': 200 });
      stream.end('late answer');
    });
    const sidecar = await h2.sidecar(app.url, noTrip, 'h2c');
    const client = h2.client(sidecar.url);
    const goaway = new Promise((resolve) => client.once('goaway', resolve));
    const inFlight = h2Request(client, { ':path': '/slow' });
    await eventually(() => app.seen.length === 1, 10_000, 'the request at the app');
    const drained = sidecar.proxy.drain(30_000);
    await goaway;
    release();
    const reply = await inFlight;
    expect(reply.headers[':status']).toBe(200);
    expect(reply.body.toString()).toBe('late answer');
    expect(await drained).toEqual({ completed: true });
  });
});

/**
 * An app may answer before it has read the whole request (RFC 9113 §8.1; the README demo's gRPC app
 * does, and so does any server that fails a call early). The client still gets the whole answer,
 * and the app's stream is closed once the answer is complete: never left open for the life of the
 * shared h2c session.
 */
import { describe, expect, it } from '@jest/globals';
import type { ServerHttp2Stream } from 'node:http2';
import { eventually } from '../../support/cli.js';
import { grpcFrame, grpcHeaders, h2Fixtures } from '../../support/h2.js';

const noTrip = { circuitBreaker: { volumeThreshold: 1000 } };
const h2 = h2Fixtures();

describe('an app that answers before the request ends', () => {
  it('the client gets the whole answer, and the app\'s stream is closed without waiting for the request\'s end', async () => {
    const app = await h2.app();
    const appStreams: ServerHttp2Stream[] = [];
    app.handler = (stream) => {
      appStreams.push(stream);
      stream.resume();
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(grpcFrame('early'));
    };
    const sidecar = await h2.sidecar(app.url, noTrip, 'h2c');
    const call = h2.client(sidecar.url).request(grpcHeaders('/svc/Early'), { endStream: false });
    call.write(grpcFrame('first of many'));
    const chunks: Buffer[] = [];
    call.on('data', (chunk: Buffer) => chunks.push(chunk));
    const trailers = await new Promise<Record<string, unknown>>((resolve) => call.once('trailers', resolve));
    expect(trailers['grpc-status']).toBe('0');
    expect(Buffer.concat(chunks).subarray(5).toString()).toBe('early');

    await eventually(() => appStreams.length === 1 && appStreams[0]?.closed === true, 10_000, () => `the app's stream closed (closed: ${String(appStreams[0]?.closed)}, rstCode: ${String(appStreams[0]?.rstCode)})`);
    expect(appStreams[0]?.rstCode).toBe(0); // NO_ERROR: the answer was complete, nothing to cancel
    call.end(grpcFrame('the rest'));
    await new Promise((resolve) => call.once('close', resolve));
    expect(call.rstCode ?? 0).toBe(0);
  });

  it('a Trailers-Only failure before the request ends reaches the client, and the app\'s stream is closed', async () => {
    const app = await h2.app();
    const appStreams: ServerHttp2Stream[] = [];
    app.handler = (stream) => {
      appStreams.push(stream);
      stream.resume();
      stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14', 'grpc-message': 'down' }, { endStream: true });
    };
    const sidecar = await h2.sidecar(app.url, noTrip, 'h2c');
    const call = h2.client(sidecar.url).request(grpcHeaders('/svc/Early'), { endStream: false });
    call.write(grpcFrame('first of many'));
    const head = await new Promise<Record<string, unknown>>((resolve) => call.once('response', resolve));
    expect(head['grpc-status']).toBe('14');
    await eventually(() => appStreams[0]?.closed === true, 10_000, 'the app\'s stream closed');
    call.end();
    await new Promise((resolve) => call.once('close', resolve));
  });
});

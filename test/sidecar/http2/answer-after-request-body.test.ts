/**
 * The sidecar's own answers (open circuit, an app it cannot reach) wait for the end of a request
 * that declared a small body: curl 7.88, the README's gRPC client, stalls for ever when answered
 * before its upload ends. A body of unknown length (gRPC clients) or one that never comes is
 * answered without waiting for it.
 */
import { describe, expect, it } from '@jest/globals';
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { closedPort } from '../../support/faulty-upstream.js';
import { grpcFrame, grpcHeaders, h2Fixtures, h2Request } from '../../support/h2.js';

const h2 = h2Fixtures();

/** Opens a call that stays open, and resolves its head when one arrives. */
function openCall(session: ClientHttp2Session, headers: OutgoingHttpHeaders): { call: ClientHttp2Stream; head: Promise<IncomingHttpHeaders> } {
  const call = session.request(headers, { endStream: false });
  call.on('error', () => undefined);
  return { call, head: new Promise((resolve) => call.once('response', resolve)) };
}

/** Resolves once every frame sent before it has reached the sidecar and been processed. */
async function roundTrip(session: ClientHttp2Session): Promise<void> {
  if (session.connecting) await new Promise((resolve) => session.once('connect', resolve));
  await new Promise<void>((resolve, reject) => session.ping((error) => (error === null ? resolve() : reject(error))));
}

async function expectNoAnswerUntilTheBodyEnds(session: ClientHttp2Session, reason: string): Promise<void> {
  const { call, head } = openCall(session, grpcHeaders('/svc/M', { 'content-length': '5' }));
  let answeredWhileOpen = false;
  void head.then(() => { answeredWhileOpen = !call.writableEnded; });
  await roundTrip(session);
  await new Promise((resolve) => setTimeout(resolve, 150));
  expect(answeredWhileOpen).toBe(false);
  call.end(grpcFrame(''));
  const headers = await head;
  expect(answeredWhileOpen).toBe(false);
  expect(headers).toMatchObject({ 'grpc-status': '14', 'x-badgateway-reason': reason });
}

describe('the sidecar\'s own answer and the request body', () => {
  it('an open circuit answers a request with a small declared body once the body has ended', async () => {
    const app = await h2.app();
    app.handler = (stream) => stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '14' }, { endStream: true });
    const sidecar = await h2.sidecar(app.url, { circuitBreaker: { volumeThreshold: 1, resetTimeout: '30s' } }, 'h2c');
    const session = h2.client(sidecar.url);
    expect((await h2Request(session, grpcHeaders('/svc/M'), grpcFrame(''))).headers['grpc-status']).toBe('14'); // trips
    await expectNoAnswerUntilTheBodyEnds(session, 'circuit-open');
    expect(app.seen).toHaveLength(1);
  });

  it('an app it cannot reach: the answer waits for the small declared body too', async () => {
    const sidecar = await h2.sidecar(`http://127.0.0.1:${await closedPort()}`, { circuitBreaker: { volumeThreshold: 1000 } }, 'h2c');
    await expectNoAnswerUntilTheBodyEnds(h2.client(sidecar.url), 'connect-failed');
  });

  it('a body of unknown length (a gRPC client\'s stream) is answered without waiting for its end', async () => {
    const sidecar = await h2.sidecar(`http://127.0.0.1:${await closedPort()}`, { circuitBreaker: { volumeThreshold: 1000 } }, 'h2c');
    const { call, head } = openCall(h2.client(sidecar.url), grpcHeaders('/svc/Stream'));
    call.write(grpcFrame('first'));
    expect(await head).toMatchObject({ 'grpc-status': '14', 'x-badgateway-reason': 'connect-failed' });
    expect(call.writableEnded).toBe(false);
  });

  it('a declared body that never comes does not hold the answer', async () => {
    const sidecar = await h2.sidecar(`http://127.0.0.1:${await closedPort()}`, { circuitBreaker: { volumeThreshold: 1000 } }, 'h2c');
    const { call, head } = openCall(h2.client(sidecar.url), grpcHeaders('/svc/M', { 'content-length': '5' }));
    expect(await head).toMatchObject({ 'grpc-status': '14', 'x-badgateway-reason': 'connect-failed' });
    expect(call.writableEnded).toBe(false);
  });
});

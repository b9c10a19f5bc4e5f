/**
 * The demo's gRPC app behaves as a gRPC server's unary handler does: it answers once the request
 * has arrived in full. (Answering earlier is valid HTTP/2, but curl 7.88, the README's client,
 * then stalls its upload and hangs until its timeout.)
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { connect } from 'node:http2';
import { SampleApp } from '../../sidecar/demo/sample-app.js';
import { grpcFrame, grpcHeaders } from '../support/h2.js';

const app = new SampleApp('h2c');
afterAll(() => app.stop());

describe('the demo\'s gRPC app', () => {
  it.each(['healthy', 'failing'] as const)('%s: no answer while the request is open, the answer once it ends', async (mode) => {
    await app.setMode(mode);
    const port = await app.start();
    const session = connect(`http://127.0.0.1:${port}`);
    session.on('error', () => undefined);
    try {
      await new Promise((resolve) => session.once('connect', resolve));
      const call = session.request(grpcHeaders('/badgateway.demo.Demo/Hello'), { endStream: false });
      call.on('error', () => undefined);
      let answeredBeforeEnd = false;
      const answered = new Promise<Record<string, unknown>>((resolve) => call.once('response', resolve));
      void answered.then(() => { answeredBeforeEnd = !call.writableEnded; });
      call.write(grpcFrame(''));
      // The message has reached the app once a PING sent after it is answered (frames are in order).
      await new Promise<void>((resolve, reject) => session.ping((error) => (error === null ? resolve() : reject(error))));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(answeredBeforeEnd).toBe(false);
      call.end();
      const head = await answered;
      expect(answeredBeforeEnd).toBe(false);
      if (mode === 'failing') expect(head['grpc-status']).toBe('14');
      else expect(head[':status']).toBe(200);
    } finally {
      session.destroy();
      await app.stop();
    }
  });
});

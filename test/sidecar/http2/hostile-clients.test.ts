import { describe, expect, it } from '@jest/globals';
import { constants } from 'node:http2';
import { CONTINUATION, END_HEADERS, END_STREAM, frame, getBlock, HEADERS, indexedHeader, PING, RawH2Connection, reference, RST_STREAM, SETTINGS } from '../../support/h2-frames.js';
import { h2Fixtures, h2Request, type H2App } from '../../support/h2.js';

const h2 = h2Fixtures();
const noTrip = { circuitBreaker: { volumeThreshold: 100_000 } };

async function attacked(app: H2App) {
  const sidecar = await h2.sidecar(app.url, noTrip, 'h2c');
  const attacker = h2.track(await RawH2Connection.open(sidecar.port));
  return { sidecar, attacker };
}

/** Another client is served while (or right after) the attack. */
async function stillServing(url: string): Promise<number | undefined> {
  const reply = await h2Request(h2.client(url), { ':path': '/other' });
  return reply.headers[':status'] as number | undefined;
}

const rst = (streamId: number) => frame(RST_STREAM, 0, streamId, Buffer.from([0, 0, 0, constants.NGHTTP2_CANCEL]));

describe('hostile HTTP/2 clients', () => {
  it('rapid reset: streams reset in the same read never reach the app, and the session gets GOAWAY', async () => {
    const app = await h2.app();
    app.handler = () => undefined; // would hold every stream it gets
    const { sidecar, attacker } = await attacked(app);
    for (let batch = 0; batch < 20 && !attacker.closed; batch += 1) {
      const frames: Buffer[] = [];
      for (let index = 0; index < 50; index += 1) {
        const streamId = (batch * 50 + index) * 2 + 1;
        frames.push(frame(HEADERS, END_STREAM | END_HEADERS, streamId, getBlock()), rst(streamId));
      }
      attacker.write(Buffer.concat(frames));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await attacker.until(() => attacker.goawayCode() !== undefined || attacker.closed)).toBe(true);
    if (attacker.goawayCode() !== undefined) expect(attacker.goawayCode()).toBe(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    expect(app.seen.length).toBeLessThan(10);
    app.handler = (stream) => { stream.respond({ ':status': 200 }); stream.end(); };
    expect(await stillServing(sidecar.url)).toBe(200);
  });

  it('CONTINUATION flood: the connection is closed long before the header block would end; the app sees nothing', async () => {
    const app = await h2.app();
    const { sidecar, attacker } = await attacked(app);
    attacker.write(frame(HEADERS, END_STREAM, 1, getBlock()));
    const piece = indexedHeader('x-flood', 'a'.repeat(1000));
    let sent = 0;
    while (sent < 5000 && !attacker.closed) {
      const frames: Buffer[] = [];
      for (let index = 0; index < 100; index += 1) frames.push(frame(CONTINUATION, 0, 1, piece));
      attacker.write(Buffer.concat(frames));
      sent += 100;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(await attacker.until(() => attacker.closed)).toBe(true);
    expect(sent).toBeLessThan(5000);
    expect(app.seen).toHaveLength(0);
    expect(await stillServing(sidecar.url)).toBe(200);
  });

  it('HPACK bomb: a small block that decodes to megabytes is refused; the app sees nothing', async () => {
    const app = await h2.app();
    const { sidecar, attacker } = await attacked(app);
    const block = Buffer.concat([getBlock(), indexedHeader('x-bomb', 'b'.repeat(4000)), ...Array.from({ length: 2000 }, () => reference(62))]);
    expect(block.length).toBeLessThan(10_000); // about 8 MB once decoded
    attacker.write(frame(HEADERS, END_STREAM | END_HEADERS, 1, block));
    const refused = () => attacker.closed || attacker.frames.some((one) => (one.type === RST_STREAM && one.streamId === 1) || (one.type === HEADERS && one.streamId === 1));
    expect(await attacker.until(refused)).toBe(true);
    const answer = attacker.frames.find((one) => one.type === HEADERS && one.streamId === 1);
    if (answer !== undefined) expect(answer.payload[0]).not.toBe(0x88); // never :status 200
    expect(app.seen).toHaveLength(0);
    expect(sidecar.metrics.durations).toHaveLength(0); // refused by the sidecar itself, never sent on
    expect(await stillServing(sidecar.url)).toBe(200);
  });

  it.each([
    ['SETTINGS', () => frame(SETTINGS, 0, 0)],
    ['PING', () => frame(PING, 0, 0, Buffer.alloc(8))],
  ])('%s flood from a client that never reads the acknowledgements: the connection is closed', async (_name, flood) => {
    const app = await h2.app();
    const { sidecar, attacker } = await attacked(app);
    attacker.socket.pause(); // reads nothing: every ACK the sidecar owes stays queued
    const chunk = Buffer.concat(Array.from({ length: 1000 }, flood));
    for (let round = 0; round < 100 && !attacker.closed; round += 1) {
      attacker.write(chunk);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    attacker.socket.resume();
    expect(await attacker.until(() => attacker.closed, 10_000)).toBe(true);
    expect(await stillServing(sidecar.url)).toBe(200);
  });

  it('stream-count abuse: streams beyond the advertised maximum are refused, the app holds no more than it', async () => {
    const app = await h2.app();
    app.handler = () => undefined;
    const { sidecar, attacker } = await attacked(app);
    const frames: Buffer[] = [];
    for (let index = 0; index < 300; index += 1) frames.push(frame(HEADERS, END_STREAM | END_HEADERS, index * 2 + 1, getBlock()));
    attacker.write(Buffer.concat(frames));
    const refusedStreams = () => attacker.frames.filter((one) => one.type === RST_STREAM && one.payload.readUInt32BE(0) === constants.NGHTTP2_REFUSED_STREAM).length;
    expect(await attacker.until(() => refusedStreams() >= 44 || attacker.closed)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(app.seen.length).toBeLessThanOrEqual(256);
    app.handler = (stream) => { stream.respond({ ':status': 200 }); stream.end(); };
    expect(await stillServing(sidecar.url)).toBe(200);
  });
});

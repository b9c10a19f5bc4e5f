/**
 * Raw HTTP/2 frames for tests that must send what no well-behaved client sends (floods, resets,
 * header bombs): the preface, frames built byte by byte, a minimal HPACK block, and a reader of
 * what came back. Only tests frame by hand; the sidecar never does.
 */
import { connect, type Socket } from 'node:net';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const DATA = 0;
export const HEADERS = 1;
export const RST_STREAM = 3;
export const SETTINGS = 4;
export const PING = 6;
export const GOAWAY = 7;
export const CONTINUATION = 9;
export const END_STREAM = 1;
export const END_HEADERS = 4;

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK string literal (no Huffman) with a 7-bit length prefix. */
function literal(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([integer(bytes.length, 7, 0), bytes]);
}

/** An HPACK integer with an N-bit prefix and the given high bits. */
function integer(value: number, prefixBits: number, high: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([high | value]);
  const bytes = [high | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** GET / on http://127.0.0.1 (static table entries, :authority as a literal). */
export function getBlock(path = '/'): Buffer {
  const pathField = path === '/' ? Buffer.from([0x84]) : Buffer.concat([Buffer.from([0x04]), literal(path)]);
  return Buffer.concat([Buffer.from([0x82, 0x86]), pathField, Buffer.from([0x01]), literal('127.0.0.1')]);
}

/** A header added to the dynamic table (literal with incremental indexing, new name). */
export function indexedHeader(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x40]), literal(name), literal(value)]);
}

/** A reference to an entry of the dynamic table (index 62 is the newest). */
export function reference(index: number): Buffer {
  return integer(index, 7, 0x80);
}

export interface ReadFrame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** A raw connection that sent the preface and an empty SETTINGS frame; collects the frames it gets. */
export class RawH2Connection {
  readonly frames: ReadFrame[] = [];
  closed = false;
  private buffered = Buffer.alloc(0);

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 9) {
        const length = this.buffered.readUIntBE(0, 3);
        if (this.buffered.length < 9 + length) break;
        this.frames.push({ type: this.buffered[3] as number, flags: this.buffered[4] as number, streamId: this.buffered.readUInt32BE(5) & 0x7fffffff, payload: this.buffered.subarray(9, 9 + length) });
        this.buffered = this.buffered.subarray(9 + length);
      }
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<RawH2Connection> {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write(Buffer.concat([PREFACE, frame(SETTINGS, 0, 0)]));
    return new RawH2Connection(socket);
  }

  write(bytes: Buffer): boolean {
    return this.socket.writable ? this.socket.write(bytes) : false;
  }

  /** The GOAWAY error code, once one arrived. */
  goawayCode(): number | undefined {
    const goaway = this.frames.find((one) => one.type === GOAWAY);
    return goaway === undefined ? undefined : goaway.payload.readUInt32BE(4);
  }

  /** Waits until `done()` or the timeout; resolves with whether it held. */
  async until(done: () => boolean, timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    return done();
  }

  close(): void {
    this.socket.destroy();
  }
}

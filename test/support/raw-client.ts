/**
 * A raw HTTP client on a real TCP socket: writes exactly the bytes a test gives it and reads the
 * whole reply, so a test sees what a proxy really sent — interim responses, framing, a close, an
 * empty reply — not what a client library makes of it.
 */
import { connect, type Socket } from 'node:net';
import { readMessages, type RawMessage } from './raw-http.js';

export interface RawReply {
  bytes: Buffer;
  /** Every response, interim (1xx) ones included, in order. */
  messages: RawMessage[];
  /** Final (non-1xx) responses only. */
  responses: RawMessage[];
  /** The proxy closed the connection (FIN or reset). */
  closed: boolean;
  /** The proxy reset the connection. */
  reset: boolean;
}

export class RawClient {
  private data = Buffer.alloc(0);
  private ended = false;
  private wasReset = false;
  private waiters: (() => void)[] = [];
  /** Request methods written so far, so HEAD responses are read without a body. */
  readonly methods: string[] = [];
  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => { this.data = Buffer.concat([this.data, chunk]); this.wake(); });
    socket.on('error', (error: Error & { code?: string }) => { if (error.code === 'ECONNRESET') this.wasReset = true; });
    socket.on('close', () => { this.ended = true; this.wake(); });
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Writes bytes as they are (latin1 for strings); notes the methods of request lines it can see. */
  write(bytes: string | Buffer): Promise<void> {
    const buffer = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    for (const match of buffer.toString('latin1').matchAll(/(?:^|\r\n\r\n)([A-Z]+) \S+ HTTP\/1\.[01]\r\n/g)) this.methods.push(match[1] as string);
    return new Promise((resolve) => {
      if (this.socket.destroyed) resolve();
      else this.socket.write(buffer, () => resolve());
    });
  }

  /** Half-closes the client side (FIN). */
  end(): void {
    this.socket.end();
  }

  reply(): RawReply {
    const messages = readMessages(this.data, { kind: 'response', ended: this.ended, requestMethods: this.methods });
    return {
      bytes: this.data,
      messages,
      responses: messages.filter((message) => message.headComplete && !(message.status >= 100 && message.status < 200)),
      closed: this.ended,
      reset: this.wasReset,
    };
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits until `done(reply)` holds, the connection closes, or `timeoutMs` passes; returns the reply. */
  async until(done: (reply: RawReply) => boolean, timeoutMs = 5_000): Promise<RawReply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const reply = this.reply();
      if (done(reply) || reply.closed || Date.now() >= deadline) return reply;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        timer.unref();
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  /** Waits for `count` complete final responses (or a close). */
  responses(count = 1, timeoutMs = 5_000): Promise<RawReply> {
    return this.until((reply) => reply.responses.filter((response) => response.complete).length >= count, timeoutMs);
  }

  /** Waits for the proxy to close the connection (or `timeoutMs`). */
  closed(timeoutMs = 5_000): Promise<RawReply> {
    return this.until(() => false, timeoutMs);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Closes with a TCP RST. */
  reset(): void {
    this.socket.resetAndDestroy();
  }
}

/** One connection: writes `payload`, waits for the close (or `timeoutMs`), returns the reply. */
export async function rawExchange(port: number, payload: string | Buffer, timeoutMs = 5_000): Promise<RawReply> {
  const client = await RawClient.open(port);
  try {
    await client.write(payload);
    return await client.closed(timeoutMs);
  } finally {
    client.destroy();
  }
}

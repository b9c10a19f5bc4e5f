/**
 * The soak's app on raw TCP: each request gets the next behaviour of a fixed rotation — healthy
 * answers mixed with every kind of misbehaviour of the conformance app-side table (invalid heads,
 * conflicting framing, interim responses, truncation, resets, stalls). Stalls are bounded: a stalled
 * connection is destroyed after STALL_LIMIT_MS whatever the proxy does.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';

const STALL_LIMIT_MS = 5_000;

type Behaviour = { kind: 'write'; bytes: string; then?: 'close' | 'reset' | 'stall' } | { kind: 'stall' } | { kind: 'reset' } | { kind: 'close' };

const OK = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok';

/** Healthy answers first and most often, so the breaker sees successes between the failures. */
const ROTATION: readonly Behaviour[] = [
  { kind: 'write', bytes: OK },
  { kind: 'write', bytes: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' },
  { kind: 'write', bytes: OK },
  { kind: 'write', bytes: 'HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n' + OK },
  { kind: 'write', bytes: OK },
  { kind: 'write', bytes: 'HTTP/1.1 200OK\r\ncontent-length: 0\r\n\r\n', then: 'close' },
  { kind: 'write', bytes: `HTTP/1.1 200 OK\r\ncontent-length: ${64 * 1024}\r\n\r\n${'x'.repeat(64 * 1024)}` },
  { kind: 'write', bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', then: 'close' },
  { kind: 'write', bytes: OK },
  { kind: 'write', bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\ntruncated', then: 'close' },
  { kind: 'reset' },
  { kind: 'write', bytes: OK },
  { kind: 'write', bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nreset mid-body', then: 'reset' },
  { kind: 'write', bytes: 'HTTP/1.1 099 Low\r\ncontent-length: 0\r\n\r\n', then: 'close' },
  { kind: 'write', bytes: OK },
  { kind: 'write', bytes: 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nstalls', then: 'stall' },
  { kind: 'stall' },
  { kind: 'write', bytes: 'HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\ndown' },
  { kind: 'close' },
  { kind: 'write', bytes: 'HTTP/1.1 100 Continue\r\n\r\n' + OK, then: 'close' },
  { kind: 'write', bytes: 'HTTP/1.0 200 OK\r\n\r\nclose-delimited', then: 'close' },
];

/** Where the next request head starts after a head ending at `headEnd`, skipping a Content-Length or chunked body. */
function afterBody(data: Buffer, head: string, headEnd: number): number {
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (length !== null) return headEnd + Number(length[1]);
  if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) {
    const end = data.indexOf('\r\n0\r\n\r\n', headEnd - 2);
    return end < 0 ? -1 : end + 7;
  }
  return headEnd;
}

export class MisbehavingApp {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private turn = 0;
  port = 0;
  requests = 0;

  constructor() {
    this.server = createServer((socket) => this.serve(socket));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const limit = setTimeout(() => socket.destroy(), STALL_LIMIT_MS * 4);
    limit.unref();
    socket.on('close', () => clearTimeout(limit));
    let data = Buffer.alloc(0);
    let busy = false;
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      while (!busy) {
        const headEnd = data.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = data.subarray(0, headEnd).toString('latin1');
        const next = afterBody(data, head, headEnd + 4);
        if (next < 0 || next > data.length) return;
        data = data.subarray(next);
        this.requests += 1;
        busy = this.answer(socket, ROTATION[this.turn++ % ROTATION.length] as Behaviour);
      }
    });
  }

  /** Plays one behaviour; true when the connection will take no further requests. */
  private answer(socket: Socket, behaviour: Behaviour): boolean {
    const stall = () => setTimeout(() => socket.destroy(), STALL_LIMIT_MS).unref();
    switch (behaviour.kind) {
      case 'reset':
        socket.resetAndDestroy();
        return true;
      case 'close':
        socket.end();
        return true;
      case 'stall':
        stall();
        return true;
      case 'write':
        if (behaviour.then === 'close') socket.end(behaviour.bytes, 'latin1');
        else socket.write(behaviour.bytes, 'latin1');
        if (behaviour.then === 'reset') setTimeout(() => socket.resetAndDestroy(), 5).unref();
        if (behaviour.then === 'stall') stall();
        return behaviour.then !== undefined;
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

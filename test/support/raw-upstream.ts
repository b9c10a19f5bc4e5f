/**
 * A scripted app on raw TCP: it records exactly the bytes each connection received (and the
 * requests in them) and answers each connection as its script says — any bytes, a close, a reset,
 * a stall. For testing what a proxy does with a misbehaving app, which node:http cannot play.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { readMessages, type RawMessage } from './raw-http.js';
import { listenOnLoopback } from './loopback.js';

export interface UpstreamConnection {
  readonly socket: Socket;
  /** Every request head received so far on this connection (bodies possibly incomplete). */
  requests(): RawMessage[];
  /** The next complete request (head and framed body) on this connection. */
  nextRequest(): Promise<RawMessage>;
  write(bytes: string | Buffer): Promise<void>;
  /** Sends bytes (optional), then FIN. */
  end(bytes?: string | Buffer): void;
  /** TCP RST. */
  reset(): void;
  /** Resolves when the proxy closes or resets the connection. */
  readonly closed: Promise<void>;
}

/** Plays one connection; errors (the proxy went away) are ignored. */
export type UpstreamScript = (connection: UpstreamConnection) => Promise<void> | void;

/** For every request on every connection, `bytes` (keep-alive unless they say otherwise). */
export function answerEach(bytes: string | Buffer | ((request: RawMessage) => string | Buffer)): UpstreamScript {
  return async (connection) => {
    for (;;) {
      const request = await connection.nextRequest();
      await connection.write(typeof bytes === 'function' ? bytes(request) : bytes);
    }
  };
}

/** A well-formed 200 with a short body. */
export const OK_RESPONSE = 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok';

class Connection implements UpstreamConnection {
  data = Buffer.alloc(0);
  private handed = 0;
  private waiters: (() => void)[] = [];
  private ended = false;
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      this.data = Buffer.concat([this.data, chunk]);
      this.wake();
    });
    socket.on('end', () => { this.ended = true; this.wake(); });
    socket.on('close', () => { this.ended = true; this.wake(); });
    socket.on('error', () => undefined);
  }

  requests(): RawMessage[] {
    return readMessages(this.data, { kind: 'request', ended: this.ended }).filter((message) => message.headComplete);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  async nextRequest(): Promise<RawMessage> {
    for (;;) {
      const complete = this.requests().filter((message) => message.complete);
      const next = complete[this.handed];
      if (next !== undefined) {
        this.handed += 1;
        return next;
      }
      if (this.ended) throw new Error('the proxy closed the connection');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  write(bytes: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes, (error) => (error ? reject(error) : resolve()));
    });
  }

  end(bytes?: string | Buffer): void {
    if (bytes === undefined) this.socket.end();
    else this.socket.end(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  reset(): void {
    this.socket.resetAndDestroy();
  }
}

export class RawUpstream {
  private readonly server: Server;
  private readonly open = new Set<Connection>();
  private readonly all: Connection[] = [];
  port = 0;

  constructor(public script: UpstreamScript = answerEach(OK_RESPONSE)) {
    this.server = createServer((socket) => {
      const connection = new Connection(socket);
      this.all.push(connection);
      this.open.add(connection);
      void connection.closed.then(() => this.open.delete(connection));
      Promise.resolve()
        .then(() => this.script(connection))
        .catch(() => undefined);
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await listenOnLoopback(this.server);
    return this;
  }

  /** How many TCP connections the proxy opened. */
  get connections(): number {
    return this.all.length;
  }

  /** Connections still open (the proxy has not closed them). */
  get openConnections(): number {
    return this.open.size;
  }

  /** Every request head that arrived, on every connection, in order of connections. */
  get requests(): RawMessage[] {
    return this.all.flatMap((connection) => connection.requests());
  }

  /** Exactly the bytes each connection received. */
  get received(): Buffer[] {
    return this.all.map((connection) => connection.data);
  }

  async close(): Promise<void> {
    for (const connection of this.open) connection.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

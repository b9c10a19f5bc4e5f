/**
 * A real upstream app on 127.0.0.1 whose behaviour tests switch at run time: healthy, refusing,
 * hanging, resetting before headers, sending garbage, failing mid-body, answering 5xx or slowly.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type UpstreamMode =
  | { kind: 'ok'; body?: string; status?: number; headers?: Record<string, string | string[]> }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'garbage' }
  | { kind: 'mid-body-failure' }
  | { kind: 'slow'; delayMs: number }
  /** Answers 200 once `until` settles: a request held for exactly as long as the test needs. */
  | { kind: 'held'; until: Promise<void> }
  | { kind: 'echo' };

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  bodyBytes: number;
}

export class FaultyUpstream {
  mode: UpstreamMode = { kind: 'ok' };
  readonly seen: SeenRequest[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server;
  port = 0;

  constructor(options: { keepAliveTimeoutMs?: number } = {}) {
    this.server = createServer((req, res) => this.handle(req, res));
    if (options.keepAliveTimeoutMs !== undefined) this.server.keepAliveTimeout = options.keepAliveTimeoutMs;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** How many TCP connections were accepted in total. */
  connections = 0;

  async start(port = 0): Promise<this> {
    this.server.on('connection', () => { this.connections += 1; });
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Stops listening: the port now refuses connections. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let bodyBytes = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      bodyBytes += chunk.length;
      if (this.mode.kind === 'echo') chunks.push(chunk);
    });
    req.on('end', () => {
      this.seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes });
      this.respond(req, res, Buffer.concat(chunks));
    });
  }

  private respond(_req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const mode = this.mode;
    const socket = res.socket as Socket;
    switch (mode.kind) {
      case 'ok':
        res.writeHead(mode.status ?? 200, { 'content-type': 'text/plain', ...(mode.headers ?? {}) });
        res.end(mode.body ?? 'hello from the app');
        return;
      case 'status':
        res.writeHead(mode.status, { 'content-type': 'text/plain' });
        res.end(mode.body ?? `app says ${mode.status}`);
        return;
      case 'hang':
        return;
      case 'reset':
        socket.resetAndDestroy();
        return;
      case 'garbage':
        socket.end('THIS IS NOT HTTP\r\n\r\n');
        return;
      case 'mid-body-failure':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100000' });
        res.write('x'.repeat(1000), () => setTimeout(() => socket.destroy(), 20));
        return;
      case 'slow':
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('slow answer');
        }, mode.delayMs).unref();
        return;
      case 'held':
        void mode.until.then(() => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('held answer');
        });
        return;
      case 'echo':
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
        res.end(body);
        return;
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** A port on 127.0.0.1 with nothing listening (bound once, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A minimal HTTP/1.1 app whose keep-alive connections expire after `idleMs` idle, advertising no
 * Keep-Alive hint (like many real apps). It makes the keep-alive race deterministic: a request that
 * arrives on an expired connection meets a closing socket (reset, no answer), exactly what happens
 * when the app's idle close crosses the proxy's reuse on the wire.
 */
export async function startRacyKeepAliveApp(idleMs: number): Promise<{ url: string; requests: () => number; close(): Promise<void> }> {
  const { createServer: createTcpServer } = await import('node:net');
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    // The idle clock starts after a response, as in real servers: a new connection never expires
    // before its first request, however slowly that request arrives on a busy machine.
    let lastActivity = Number.POSITIVE_INFINITY;
    socket.on('data', (data) => {
      if (Date.now() - lastActivity >= idleMs) {
        socket.resetAndDestroy();
        return;
      }
      buffered += data.toString('latin1');
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4);
        requests += 1;
        socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok');
        lastActivity = Date.now();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: () => requests,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * HTTP/2 test helpers: a sidecar with a chosen app protocol, a scriptable h2c app (node:http2), and
 * a client request that records the head, the body, the trailers and how the stream ended.
 */
import { afterEach } from '@jest/globals';
import { connect, constants, createServer, type ClientHttp2Session, type Http2Server, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { silentLogger, type Logger } from '../../api/logger.js';
import type { AppProtocol, ProxyServer } from '../../sidecar/contracts.js';
import { createProxyServer } from '../../sidecar/proxy-server.js';
import { RecordingMetrics } from './recording-metrics.js';
import { sidecarConfig } from './sidecar-harness.js';
import { listenOnLoopback } from './loopback.js';

export interface H2Sidecar {
  proxy: ProxyServer;
  metrics: RecordingMetrics;
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface SeenStream {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type AppHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, app: H2App) => void;

/** A real h2c app whose handler each test sets; what it saw is recorded. */
export class H2App {
  readonly seen: SeenStream[] = [];
  handler: AppHandler = (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end('hello over h2c');
  };
  readonly server: Http2Server;
  port = 0;
  sessions = 0;
  readonly openSessions = new Set<ServerHttp2Session>();

  constructor(settings: { maxConcurrentStreams?: number } = {}) {
    this.server = createServer({ settings });
    this.server.on('session', (session) => {
      this.sessions += 1;
      this.openSessions.add(session);
      session.once('close', () => this.openSessions.delete(session));
      session.on('error', () => undefined);
    });
    this.server.on('stream', (stream, headers) => {
      stream.on('error', () => undefined);
      const chunks: Buffer[] = [];
      const seen: SeenStream = { headers, body: Buffer.alloc(0) };
      this.seen.push(seen);
      stream.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        seen.body = Buffer.concat(chunks);
      });
      this.handler(stream, headers, this);
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await listenOnLoopback(this.server);
    return this;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const session of this.openSessions) session.destroy();
    });
  }
}

export async function startH2Sidecar(upstream: string, config: unknown = {}, appProtocol: AppProtocol = 'http1', logger: Logger = silentLogger()): Promise<H2Sidecar> {
  const current = sidecarConfig(config);
  const metrics = new RecordingMetrics();
  const proxy = createProxyServer({ upstream: new URL(upstream), appProtocol, config: { current: () => current }, metrics, logger });
  const address = await proxy.listen('127.0.0.1', 0);
  return { proxy, metrics, port: address.port, url: `http://127.0.0.1:${address.port}`, close: () => proxy.close() };
}

export interface H2Reply {
  headers: IncomingHttpHeaders;
  /** The head carried END_STREAM (a Trailers-Only answer). */
  headEnded: boolean;
  body: Buffer;
  trailers: IncomingHttpHeaders | undefined;
  rstCode: number;
  error: Error | undefined;
}

/** One request on `session`; resolves when the stream closed, however it did. */
export function h2Request(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer | string): Promise<H2Reply> {
  return new Promise((resolve) => {
    const stream = session.request({ ':path': '/', ...headers }, { endStream: body === undefined });
    const reply: H2Reply = { headers: {}, headEnded: false, body: Buffer.alloc(0), trailers: undefined, rstCode: 0, error: undefined };
    const chunks: Buffer[] = [];
    stream.on('response', (head, flags) => {
      reply.headers = head;
      reply.headEnded = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('trailers', (trailers) => {
      reply.trailers = trailers;
    });
    stream.on('error', (error) => {
      reply.error = error;
    });
    stream.on('close', () => {
      reply.body = Buffer.concat(chunks);
      reply.rstCode = stream.rstCode ?? 0;
      resolve(reply);
    });
    if (body !== undefined) stream.end(body);
  });
}

/** gRPC request headers (content-type application/grpc, te: trailers) for `path`. */
export function grpcHeaders(path: string, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  return { ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...extra };
}

/** One length-prefixed gRPC message (uncompressed) around `payload`. */
export function grpcFrame(payload: Buffer | string): Buffer {
  const bytes = Buffer.from(payload);
  const frame = Buffer.alloc(5 + bytes.length);
  frame.writeUInt32BE(bytes.length, 1);
  bytes.copy(frame, 5);
  return frame;
}

/** Per-test h2c apps, sidecars and client sessions, closed after each test, newest first. */
export function h2Fixtures() {
  const opened: { close(): unknown }[] = [];
  afterEach(async () => {
    for (const resource of opened.splice(0).reverse()) await resource.close();
  });
  return {
    async app(settings?: { maxConcurrentStreams?: number }): Promise<H2App> {
      const app = await new H2App(settings).start();
      opened.push(app);
      return app;
    },
    async sidecar(upstream: string, config: unknown = {}, appProtocol: AppProtocol = 'http1', logger?: Logger): Promise<H2Sidecar> {
      const sidecar = await startH2Sidecar(upstream, config, appProtocol, logger);
      opened.push(sidecar);
      return sidecar;
    },
    client(url: string): ClientHttp2Session {
      const session = connect(url);
      session.on('error', () => undefined);
      opened.push({ close: () => new Promise<void>((resolve) => { session.destroy(); resolve(); }) });
      return session;
    },
    /** Anything else with a close(). */
    track<T extends { close(): unknown }>(resource: T): T {
      opened.push(resource);
      return resource;
    },
  };
}

/**
 * The demo's stand-in for the user's app: healthy, failing (503s, or grpc-status 14 over gRPC), stuck (accepts requests, never
 * answers), down (port closed), or overloaded (latency grows with its concurrent requests, sidecar/demo/load-latency.ts).
 * It speaks HTTP/1.1, or gRPC over h2c (`badgateway demo --grpc`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createH2cServer, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Server, Socket } from 'node:net';
import type { AppProtocol } from '../contracts.js';
import { answerGrpcOk, answerGrpcStatus } from './grpc-demo.js';
import { DEFAULT_LOAD_MODEL, latencyAt } from './load-latency.js';

export const APP_MODES = ['healthy', 'failing', 'stuck', 'down', 'overload'] as const;
export type AppMode = (typeof APP_MODES)[number];

export class SampleApp {
  private mode: AppMode = 'healthy';
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;
  private inFlight = 0;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly protocol: AppProtocol = 'http1') {}

  currentMode(): AppMode {
    return this.mode;
  }

  async start(port = 0): Promise<number> {
    this.server = this.protocol === 'h2c'
      ? createH2cServer().on('stream', (stream) => this.answerGrpc(stream))
      : createServer((req, res) => this.answerHttp1(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  private answerHttp1(req: IncomingMessage, res: ServerResponse): void {
    if (this.mode === 'stuck') return;
    if (this.mode === 'failing') {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('app: database unavailable\n');
      return;
    }
    if (this.mode === 'overload') {
      this.afterLoadLatency(res, () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`hello from the busy app (${this.inFlight} requests in progress)\n`);
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello from the app: ${req.method} ${req.url}\n`);
  }

  /**
   * A unary call is answered once its request has arrived in full, as a gRPC server runs its
   * handler. An answer before the request's end is valid HTTP/2, but curl 7.88 (the README's
   * call) then stalls its own upload and never completes, even against a bare node:http2 server.
   */
  private answerGrpc(stream: ServerHttp2Stream): void {
    stream.on('error', () => undefined); // a reset by the sidecar ends the call, nothing to answer
    stream.resume();
    stream.once('end', () => this.answerGrpcCall(stream));
  }

  private answerGrpcCall(stream: ServerHttp2Stream): void {
    if (this.mode === 'stuck') return;
    if (this.mode === 'failing') answerGrpcStatus(stream, 14, 'app: database unavailable');
    else if (this.mode === 'overload') this.afterLoadLatency(stream, () => answerGrpcOk(stream));
    else answerGrpcOk(stream);
  }

  /** Answers after the latency of the requests in progress, as an app slowed by load does. */
  private afterLoadLatency(exchange: ServerResponse | ServerHttp2Stream, answer: () => void): void {
    this.inFlight += 1;
    exchange.once('close', () => { this.inFlight -= 1; });
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      answer();
    }, latencyAt(DEFAULT_LOAD_MODEL, this.inFlight));
    timer.unref();
    this.timers.add(timer);
  }

  async setMode(mode: AppMode): Promise<void> {
    if (mode === this.mode) return;
    const wasDown = this.mode === 'down';
    this.mode = mode;
    if (mode === 'down') await this.stop();
    else if (wasDown) await this.start(this.port);
    if (mode === 'healthy') for (const socket of this.sockets) socket.destroy(); // end stuck requests
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

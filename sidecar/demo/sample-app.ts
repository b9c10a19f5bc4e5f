/**
 * The demo's stand-in for the user's app: healthy, failing (503s), stuck (accepts requests, never answers), down (port closed), or
 * overloaded (latency grows with its concurrent requests, sidecar/demo/load-latency.ts).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
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

  currentMode(): AppMode {
    return this.mode;
  }

  async start(port = 0): Promise<number> {
    this.server = createServer((req, res) => {
      if (this.mode === 'stuck') return;
      if (this.mode === 'failing') {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('app: database unavailable\n');
        return;
      }
      if (this.mode === 'overload') {
        this.inFlight += 1;
        res.once('close', () => { this.inFlight -= 1; });
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(`hello from the busy app (${this.inFlight} requests in progress)\n`);
        }, latencyAt(DEFAULT_LOAD_MODEL, this.inFlight));
        timer.unref();
        this.timers.add(timer);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`hello from the app: ${req.method} ${req.url}\n`);
    });
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
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

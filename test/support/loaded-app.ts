/**
 * A real app on 127.0.0.1 that slows down with concurrent work (sidecar/demo/load-latency.ts), or
 * holds every request until the test lets go. `/healthz` always answers at once.
 */
import { afterEach } from '@jest/globals';
import { createServer, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { latencyAt, type LoadModel } from '../../sidecar/demo/load-latency.js';
import { listenOnLoopback } from './loopback.js';

export class LoadedApp {
  /** Hold requests until release(); otherwise answer after the model's latency. */
  hold = false;
  inFlight = 0;
  maxInFlight = 0;
  readonly seen: string[] = [];
  private readonly held: ServerResponse[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server = createServer((req, res) => {
    this.seen.push(req.url ?? '/');
    if (req.url === '/healthz') {
      res.end('ok\n');
      return;
    }
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    res.once('close', () => { this.inFlight -= 1; });
    if (this.hold) {
      this.held.push(res);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      res.end('done\n');
    }, latencyAt(this.model, this.inFlight));
    this.timers.add(timer);
  });
  port = 0;

  constructor(private readonly model: LoadModel = { capacity: 4, serviceMs: 20, degradation: 0.25 }) {
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await listenOnLoopback(this.server);
    return this;
  }

  /** Answers every held request (200, or `status`) and stops holding new ones. */
  release(status = 200): void {
    this.hold = false;
    for (const res of this.held.splice(0)) {
      res.statusCode = status;
      res.end('released\n');
    }
  }

  get heldCount(): number {
    return this.held.length;
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * Per-test loaded apps: `start(hold)` starts one (the default model; `hold` keeps every request
 * until released); each is released and closed after the test.
 */
export function loadedAppFixtures(): { start(hold?: boolean): Promise<LoadedApp> } {
  const started: LoadedApp[] = [];
  afterEach(async () => {
    for (const app of started.splice(0)) {
      app.release();
      await app.close();
    }
  });
  return {
    async start(hold = false) {
      const app = await new LoadedApp().start();
      app.hold = hold;
      started.push(app);
      return app;
    },
  };
}

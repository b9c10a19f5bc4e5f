/**
 * An app on a fixed 127.0.0.1 port that goes up and down on a timer: up, it answers every
 * request with the request id it was given (so the test can tell whose answer it got); down, the
 * port refuses connections. Going down is graceful for requests already inside (they finish).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class FlappingApp {
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private flipping: Promise<void> = Promise.resolve();
  port = 0;
  transitions = 0;

  async start(): Promise<this> {
    await this.up();
    return this;
  }

  /** Flips between up and down every `periodMs`. */
  flap(periodMs: number): void {
    this.timer = setInterval(() => {
      this.flipping = this.flipping.then(() => (this.server === undefined ? this.up() : this.down())).then(() => { this.transitions += 1; });
    }, periodMs);
    this.timer.unref();
  }

  /** Stops flapping and leaves the app up. */
  async steady(): Promise<void> {
    clearInterval(this.timer);
    await this.flipping;
    if (this.server === undefined) await this.up();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flipping;
    await this.down();
  }

  private async up(): Promise<void> {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(`ok ${String(req.headers['x-request-id'])}`);
      });
    });
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private async down(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // In-flight requests finish; their sockets then close because the server is closing.
    await closed;
  }
}

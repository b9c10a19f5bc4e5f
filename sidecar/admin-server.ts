/**
 * The admin endpoints on their own port (never the proxy's): health, readiness, Prometheus
 * metrics and the effective configuration, served by express (the proxy port's hot path is plain
 * node:http; this one is not hot).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AddressInfo } from 'node:net';
import type { SidecarConfig } from '../api/schema.js';
import { createServer } from './node-http.js';
import type { CircuitState, LimiterState } from './contracts.js';

export interface AdminState {
  ready(): boolean;
  config(): Readonly<SidecarConfig>;
  breakerState(): CircuitState;
  overloadState(): LimiterState;
}

/** What the admin server needs from the metrics registry. */
export interface MetricsText {
  readonly contentType: string;
  text(): Promise<string>;
}

export interface AdminServer {
  listen(host: string, port: number): Promise<AddressInfo>;
  close(): Promise<void>;
}

const TEXT = 'text/plain; charset=utf-8';
/** Admin requests are tiny GETs; anything bigger is not for us. */
const MAX_ADMIN_HEADER_BYTES = 8 * 1024;

/**
 * node:http's own writes rather than express's res.type()/send(): those look every Content-Type up
 * in the mime database, which the sidecar would then load for its first probe (tools/bundle.ts).
 * Node sends no body for HEAD by itself.
 */
function reply(res: Response, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader('content-type', contentType);
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

export function createAdminServer(state: AdminState, metrics: MetricsText): AdminServer {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use((req: Request, res: Response, next: NextFunction) => {
    res.set('cache-control', 'no-store');
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    res.set('allow', 'GET, HEAD');
    reply(res, 405, TEXT, 'method not allowed\n');
  });
  app.get('/healthz', (_req, res) => {
    reply(res, 200, TEXT, 'ok\n');
  });
  app.get('/readyz', (_req, res) => {
    if (state.ready()) reply(res, 200, TEXT, 'ready\n');
    else reply(res, 503, TEXT, 'not ready\n');
  });
  app.get('/metrics', async (_req, res) => {
    reply(res, 200, metrics.contentType, await metrics.text());
  });
  app.get('/config', (_req, res) => {
    reply(res, 200, 'application/json; charset=utf-8', JSON.stringify({ config: state.config(), circuit: state.breakerState(), overload: state.overloadState() }));
  });
  app.use((_req: Request, res: Response) => {
    reply(res, 404, TEXT, 'not found\n');
  });
  app.use((_error: Error, _req: Request, res: Response, _next: NextFunction) => {
    if (!res.headersSent) reply(res, 500, TEXT, 'internal error\n');
    else res.destroy();
  });
  const server = createServer({ maxHeaderSize: MAX_ADMIN_HEADER_BYTES }, app);
  return {
    listen: (host, port) => new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server.address() as AddressInfo);
      });
    }),
    close: () => new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

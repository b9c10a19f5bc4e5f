/**
 * The admin endpoints on their own port (never the proxy's): health, readiness, Prometheus
 * metrics and the effective configuration.
 */
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SidecarConfig } from '../api/schema.js';
import type { CircuitState } from './contracts.js';
import type { PrometheusSidecarMetrics } from './metrics.js';

export interface AdminState {
  ready(): boolean;
  config(): Readonly<SidecarConfig>;
  breakerState(): CircuitState;
}

export interface AdminServer {
  listen(host: string, port: number): Promise<AddressInfo>;
  close(): Promise<void>;
}

export function createAdminServer(state: AdminState, metrics: PrometheusSidecarMetrics): AdminServer {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    if (state.ready()) res.type('text/plain').send('ready\n');
    else res.status(503).type('text/plain').send('not ready\n');
  });
  app.get('/metrics', async (_req, res) => {
    res.set('content-type', metrics.contentType).send(await metrics.text());
  });
  app.get('/config', (_req, res) => {
    res.json({ config: state.config(), circuit: state.breakerState() });
  });
  app.use((_req, res) => {
    res.status(404).type('text/plain').send('not found\n');
  });
  let server: Server | undefined;
  return {
    listen: (host, port) => new Promise((resolve, reject) => {
      server = app.listen(port, host, (error?: Error) => {
        if (error) reject(error);
        else resolve(server!.address() as AddressInfo);
      });
    }),
    close: () => new Promise((resolve) => {
      if (server === undefined) return resolve();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

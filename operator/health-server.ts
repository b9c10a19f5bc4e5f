/** The operator's health and metrics endpoints (8080): /healthz, /readyz, /metrics. */
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OperatorMetrics } from './metrics.js';

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(options: { host?: string; port: number; ready(): boolean; metrics: OperatorMetrics }): Promise<HealthServer> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => { res.type('text/plain').send('ok\n'); });
  app.get('/readyz', (_req, res) => {
    if (options.ready()) res.type('text/plain').send('ready\n');
    else res.status(503).type('text/plain').send('not ready\n');
  });
  app.get('/metrics', async (_req, res) => { res.set('content-type', options.metrics.contentType).send(await options.metrics.text()); });
  app.use((_req, res) => { res.status(404).type('text/plain').send('not found\n'); });
  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(options.port, options.host ?? '0.0.0.0', (error?: Error) => (error ? reject(error) : resolve(listening)));
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

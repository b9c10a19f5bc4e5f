/**
 * The admin endpoints on their own port (never the proxy's): health, readiness, Prometheus
 * metrics and the effective configuration. Four fixed GET routes on plain node:http: a web
 * framework here cost about 100 ms of start-up and 4 MiB of memory for nothing the routes use.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SidecarConfig } from '../api/schema.js';
import { createServer } from './node-http.js';
import type { CircuitState } from './contracts.js';

export interface AdminState {
  ready(): boolean;
  config(): Readonly<SidecarConfig>;
  breakerState(): CircuitState;
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

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export function createAdminServer(state: AdminState, metrics: MetricsText): AdminServer {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      send(res, 405, TEXT, 'method not allowed\n');
      return;
    }
    switch (pathOf(req)) {
      case '/healthz':
        send(res, 200, TEXT, 'ok\n');
        return;
      case '/readyz':
        if (state.ready()) send(res, 200, TEXT, 'ready\n');
        else send(res, 503, TEXT, 'not ready\n');
        return;
      case '/metrics':
        send(res, 200, metrics.contentType, await metrics.text());
        return;
      case '/config':
        send(res, 200, 'application/json; charset=utf-8', JSON.stringify({ config: state.config(), circuit: state.breakerState() }));
        return;
      default:
        send(res, 404, TEXT, 'not found\n');
    }
  };
  const server = createServer({ maxHeaderSize: MAX_ADMIN_HEADER_BYTES }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, TEXT, 'internal error\n');
      else res.destroy();
    });
  });
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

/**
 * The mutating admission webhook's HTTPS server (express): POST /mutate. Malformed reviews get a
 * 400 naming what is wrong; any internal error allows the object unchanged (never a denial, never
 * a crash) and is logged; `failurePolicy` in the chart decides what the API server does if we
 * cannot answer at all.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../api/logger.js';
import type { InjectContext } from '../inject/inject.js';
import type { WebhookResult } from '../metrics.js';
import { allow, MalformedReview, parseReview, reviewDeployment, type AdmissionRequest } from './review.js';

/** A Deployment is a few KiB; the API server's own request limit is 3 MiB. */
const MAX_REVIEW_BYTES = 3 * 1024 * 1024;
/** The API server gives up on a webhook after at most 30 s (timeoutSeconds' ceiling); so do we. */
const REQUEST_TIMEOUT_MS = 10_000;
const HANDSHAKE_TIMEOUT_MS = 5_000;
/** The API server waits timeoutSeconds (5 s in the chart); answer well within it. */
const CONTEXT_DEADLINE_MS = 700;
/** The API server's webhook client closes a connection idle this long (client-go's transport: Go's IdleConnTimeout). */
export const APISERVER_IDLE_CONNECTION_MS = 90_000;
/**
 * Longer than the API server keeps an idle connection, so it is always the one to close it. A
 * server that closes first races the API server's next review on that connection: the review is
 * written into a closing socket (`write: broken pipe`), the API server does not send it again, and
 * the admission fails as failurePolicy says (bench:fleet met it at 30 s: a Deployment's write
 * refused with 500 after its connection sat idle for 30 s).
 */
export const KEEP_ALIVE_TIMEOUT_MS = APISERVER_IDLE_CONNECTION_MS + 30_000;

export interface WebhookServerOptions {
  tls: { key: string; cert: string };
  /** Policy lookup and cluster version for one review; may be slow or fail, then defaults apply. */
  resolveContext(request: AdmissionRequest): Promise<InjectContext>;
  fallbackContext: () => InjectContext;
  logger: Logger;
  /** Told how each review on /mutate ended and how long it took (for metrics). */
  onReview?(outcome: { result: WebhookResult; durationMs: number }): void;
  /** How long an idle keep-alive connection is kept; KEEP_ALIVE_TIMEOUT_MS unless a test needs it short. */
  keepAliveTimeoutMs?: number;
}

export interface WebhookServer {
  listen(host: string, port: number): Promise<AddressInfo>;
  updateTls(tls: { key: string; cert: string }): void;
  close(): Promise<void>;
}

function withDeadline<T>(promise: Promise<T>, fallback: () => T, ms: number): Promise<T> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback()), ms);
    timer.unref();
    promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    }, () => {
      clearTimeout(timer);
      resolve(fallback());
    });
  });
}

export function createWebhookServer(options: WebhookServerOptions): WebhookServer {
  const { logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  const report = (result: WebhookResult, started: number) => options.onReview?.({ result, durationMs: performance.now() - started });
  app.post('/mutate', (req: Request & { receivedAt?: number }, _res, next) => {
    req.receivedAt = performance.now();
    next();
  }, express.json({ limit: MAX_REVIEW_BYTES, type: () => true }), async (req: Request & { receivedAt?: number }, res: Response) => {
    const started = req.receivedAt ?? performance.now();
    let request: AdmissionRequest;
    try {
      request = parseReview(req.body);
    } catch (error) {
      res.status(400).json({ message: `malformed AdmissionReview: ${(error as Error).message}` });
      report('malformed', started);
      return;
    }
    try {
      const context = await withDeadline(options.resolveContext(request), options.fallbackContext, CONTEXT_DEADLINE_MS);
      const { review, reasons } = reviewDeployment(request, context);
      const target = (request.object as { metadata?: { name?: string } } | undefined)?.metadata?.name;
      logger.info({ uid: request.uid, operation: request.operation, namespace: request.namespace, name: target, patched: review.response.patch !== undefined, dryRun: request.dryRun === true, reasons, ...(review.response.warnings === undefined ? {} : { warnings: review.response.warnings }) }, 'admission review');
      res.json(review);
      report(review.response.patch === undefined ? 'unchanged' : 'patched', started);
    } catch (error) {
      logger.error({ uid: request.uid, error: (error as Error).message }, 'admission review failed; allowing unchanged');
      res.json(allow(request.uid, ['badgateway: injection failed; the object was admitted unchanged']));
      report('error', started);
    }
  });
  app.use((error: Error & { type?: string; status?: number }, req: Request & { receivedAt?: number }, res: Response, _next: NextFunction) => {
    if (req.path === '/mutate' && req.receivedAt !== undefined) report('malformed', req.receivedAt);
    if (error.type === 'entity.too.large') res.status(413).json({ message: `AdmissionReview larger than ${MAX_REVIEW_BYTES} bytes` });
    else if (error.type === 'entity.parse.failed') res.status(400).json({ message: 'malformed AdmissionReview: body is not valid JSON' });
    else if (error instanceof MalformedReview) res.status(400).json({ message: error.message });
    else res.status(error.status ?? 400).json({ message: 'bad request' });
  });
  app.use((_req, res) => {
    res.status(404).json({ message: 'not found' });
  });

  const server: Server = createServer({
    key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2',
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    // Node checks headersTimeout/requestTimeout only this often (30 s by default), which would let
    // slow clients hold sockets far longer than the API server would ever wait for us.
    connectionsCheckingInterval: 1_000,
    headersTimeout: REQUEST_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: options.keepAliveTimeoutMs ?? KEEP_ALIVE_TIMEOUT_MS,
  }, app);
  return {
    listen: (host, port) => new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve(server.address() as AddressInfo);
      });
    }),
    updateTls: (tls) => server.setSecureContext({ key: tls.key, cert: tls.cert }),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

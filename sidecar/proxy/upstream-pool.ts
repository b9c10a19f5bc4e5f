/**
 * The upstream connection pool (undici). Its idle timeout stays below the app's own keep-alive
 * timeout — both our `timeouts.idle` and any `Keep-Alive: timeout=N` hint the app sends — because
 * reusing a connection the app is closing is the most common sporadic 502 in real clusters.
 *
 * Pool and Client come from their own files, not undici's index: the index also loads fetch,
 * WebSocket, caches and mocks, about 90 ms of start-up and 14 MiB of memory (docs/performance.md).
 * undici has no `exports` map, so the paths are reachable; a rename in an undici upgrade fails every
 * proxy test at once. Their types: sidecar/vendor-paths.d.ts.
 */
import type { Client as UndiciClient, Dispatcher } from 'undici';
import Client from 'undici/lib/dispatcher/client.js';
import Pool from 'undici/lib/dispatcher/pool.js';
import { parseDuration } from '../../api/duration.js';
import type { Timeouts } from '../../api/schema.js';

/** Subtracted from an app's Keep-Alive hint, so we give up a connection before the app does. */
const KEEP_ALIVE_SAFETY_MS = 500;
/** Between two body chunks of a streaming response; the response timeout covers the head only. */
const BODY_IDLE_TIMEOUT_MS = 60_000;

export interface UpstreamPool {
  readonly origin: string;
  readonly timeouts: Readonly<Timeouts>;
  readonly connectMs: number;
  readonly responseMs: number;
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void;
  /** A retry goes over a brand-new connection, never a pooled one that may be stale too. */
  dispatchFresh(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): void;
  /** Waits for requests in flight, then closes (a pool replaced by a reload). */
  close(): Promise<void>;
  /** Aborts everything at once. */
  destroy(): Promise<void>;
}

export function createUpstreamPool(upstream: URL, timeouts: Readonly<Timeouts>, maxHeaderSize: number): UpstreamPool {
  const connectMs = parseDuration(timeouts.connect);
  const responseMs = parseDuration(timeouts.response);
  const idleMs = Math.max(1, parseDuration(timeouts.idle));
  const origin = upstream.origin;
  const clientOptions = {
    connect: { timeout: connectMs },
    headersTimeout: responseMs,
    bodyTimeout: BODY_IDLE_TIMEOUT_MS,
    keepAliveTimeout: idleMs,
    keepAliveMaxTimeout: idleMs,
    keepAliveTimeoutThreshold: KEEP_ALIVE_SAFETY_MS,
    maxHeaderSize,
    pipelining: 1,
  };
  const pool = new Pool(origin, { ...clientOptions, connections: null });
  const fresh = new Set<UndiciClient>();

  return {
    origin,
    timeouts,
    connectMs,
    responseMs,
    dispatch: (options, handler) => {
      pool.dispatch(options, handler);
    },
    dispatchFresh: (options, handler) => {
      const client = new Client(origin, { ...clientOptions, pipelining: 1 });
      fresh.add(client);
      const done = (): void => {
        fresh.delete(client);
        client.close().catch(() => undefined);
      };
      client.dispatch({ ...options, reset: true }, {
        onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
        onRequestUpgrade: (controller, status, headers, socket) => handler.onRequestUpgrade?.(controller, status, headers, socket),
        onResponseStart: (controller, status, headers, message) => handler.onResponseStart?.(controller, status, headers, message),
        onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
        onResponseEnd: (controller, trailers) => {
          done();
          handler.onResponseEnd?.(controller, trailers);
        },
        onResponseError: (controller, error) => {
          done();
          handler.onResponseError?.(controller, error);
        },
      });
    },
    close: async () => {
      await Promise.all([pool.close(), ...[...fresh].map((client) => client.close())]).catch(() => undefined);
    },
    destroy: async () => {
      await Promise.all([pool.destroy(), ...[...fresh].map((client) => client.destroy())]).catch(() => undefined);
    },
  };
}

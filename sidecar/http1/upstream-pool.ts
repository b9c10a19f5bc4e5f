/**
 * Keep-alive connections to the app: most recently used first, at most MAX_IDLE kept idle, each
 * given up before the app would close it (our idle timeout, or the app's `Keep-Alive: timeout=`
 * hint minus a margin). Reusing a connection the app is closing is the most common sporadic 502 in
 * real clusters; the exchange's safe retry covers the race that remains.
 */
import type { Deadlines } from '../core/deadlines.js';
import type { AppLinks } from './app-link.js';
import { UpstreamConnection, type ConnectionOwner } from './upstream-connection.js';

/** Subtracted from an app's Keep-Alive hint, so we give up a connection before the app does. */
const KEEP_ALIVE_SAFETY_MS = 500;
/** Idle connections kept beyond this many are closed when released. */
const MAX_IDLE = 1024;

export class UpstreamPool implements AppLinks, ConnectionOwner {
  private readonly host: string;
  private readonly port: number;
  private readonly idle: UpstreamConnection[] = [];
  private readonly open = new Set<UpstreamConnection>();
  private closing = false;
  private closed: (() => void) | null = null;

  constructor(upstream: URL, readonly deadlines: Deadlines, readonly maxHeaderSize: number) {
    this.host = upstream.hostname.replace(/^\[|\]$/g, '');
    this.port = upstream.port === '' ? 80 : Number(upstream.port);
  }

  /**
   * An idle connection, or a new one; `fresh` always opens a new one (a retry). A request that may
   * become a tunnel (`upgrade`) gets a new connection that reads as a stream (UpstreamConnection).
   */
  acquire(fresh: boolean, upgrade = false): UpstreamConnection {
    if (!fresh && !upgrade) {
      const pooled = this.idle.pop();
      if (pooled !== undefined) {
        pooled.takeFromPool();
        return pooled;
      }
    }
    const connection = new UpstreamConnection(this, this.host, this.port, !upgrade);
    this.open.add(connection);
    return connection;
  }

  release(connection: UpstreamConnection, hintMs: number | undefined): void {
    const poolIdleMs = this.deadlines.idleMs;
    const idleMs = hintMs === undefined ? poolIdleMs : Math.min(poolIdleMs, hintMs - KEEP_ALIVE_SAFETY_MS);
    if (this.closing || idleMs <= 0 || this.idle.length >= MAX_IDLE) {
      connection.destroy();
      return;
    }
    connection.idleFor(idleMs);
    this.idle.push(connection);
  }

  forget(connection: UpstreamConnection): void {
    this.open.delete(connection);
    const index = this.idle.lastIndexOf(connection);
    if (index >= 0) this.idle.splice(index, 1);
    if (this.closing && this.open.size === 0 && this.closed !== null) this.closed();
  }

  /** Closes idle connections now and the others as their requests end (a pool replaced by a reload). */
  close(): Promise<void> {
    this.closing = true;
    for (const connection of this.idle.splice(0)) connection.destroy();
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => { this.closed = resolve; });
  }

  /** Aborts everything at once. */
  destroy(): Promise<void> {
    const done = this.close();
    for (const connection of [...this.open]) connection.destroy();
    return done;
  }
}

/**
 * A few h2c sessions to the app, shared by every request: a request goes on the session with the
 * fewest streams in flight, a new session opens only when all are at the app's
 * SETTINGS_MAX_CONCURRENT_STREAMS (beyond MAX_SESSIONS nghttp2 holds the stream until a slot
 * frees). A session that received GOAWAY takes no new streams and finishes its own; a session that
 * stops answering PINGs is destroyed, so a dead app is found between requests.
 */
import { connect, type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import { BadGatewayError } from '../core/failures.js';

const MAX_SESSIONS = 4;
/** A keepalive PING this often, and a session whose PING is unanswered this long is dead. */
const PING_EVERY_MS = 10_000;
const PING_ANSWER_MS = 5_000;
/** Request bodies are buffered by nghttp2 up to the app's window; this bounds each session's memory (MiB). */
const MAX_SESSION_MEMORY_MIB = 32;
const END_STREAM = Object.freeze({ endStream: true });
const MORE_TO_COME = Object.freeze({ endStream: false });

class AppSession {
  active = 0;
  usable = true;
  private readonly pinger: NodeJS.Timeout;
  /** One listener for all of the session's streams, not a closure each. */
  readonly streamClosed = (): void => {
    this.active -= 1;
  };

  constructor(readonly session: ClientHttp2Session, private readonly owner: AppSessions, connectMs: number) {
    const connectTimer = setTimeout(() => {
      session.destroy(new BadGatewayError('connect-timeout', `no h2c session to the app within ${connectMs} ms`));
    }, connectMs);
    connectTimer.unref();
    session.once('connect', () => clearTimeout(connectTimer));
    session.once('goaway', () => this.retire());
    session.once('close', () => {
      clearTimeout(connectTimer);
      clearInterval(this.pinger);
      this.retire();
    });
    session.on('error', () => this.retire()); // each stream reports its own failure
    this.pinger = setInterval(() => this.ping(), PING_EVERY_MS);
    this.pinger.unref();
  }

  private ping(): void {
    if (this.session.destroyed || this.active > 0) return; // streams in flight prove the session alive
    const deadline = setTimeout(() => this.session.destroy(), PING_ANSWER_MS);
    deadline.unref();
    this.session.ping((error) => {
      clearTimeout(deadline);
      if (error !== null) this.session.destroy();
    });
  }

  /** Full: as many streams as the app allows (until its SETTINGS arrive, Node assumes no limit). */
  full(): boolean {
    return this.active >= (this.session.remoteSettings.maxConcurrentStreams ?? Number.MAX_SAFE_INTEGER);
  }

  retire(): void {
    if (!this.usable) return;
    this.usable = false;
    this.owner.forget(this);
  }
}

export class AppSessions {
  private sessions: AppSession[] = [];
  private closed = false;

  constructor(private readonly origin: string) {}

  /** Opens a stream to the app; failures arrive as the stream's 'error' and 'close'. */
  request(headers: OutgoingHttpHeaders, endStream: boolean, connectMs: number): ClientHttp2Stream {
    const chosen = this.choose(connectMs);
    chosen.active += 1;
    const stream = chosen.session.request(headers, endStream ? END_STREAM : MORE_TO_COME);
    stream.on('close', chosen.streamClosed); // emitted once
    return stream;
  }

  private choose(connectMs: number): AppSession {
    let best: AppSession | undefined;
    for (const candidate of this.sessions) if (best === undefined || candidate.active < best.active) best = candidate;
    if (best !== undefined && (!best.full() || this.sessions.length >= MAX_SESSIONS)) return best;
    const session = new AppSession(connect(this.origin, { maxSessionMemory: MAX_SESSION_MEMORY_MIB, settings: { enablePush: false } }), this, connectMs);
    if (!this.closed) this.sessions.push(session);
    return session;
  }

  /** @internal — a session that takes no new streams. */
  forget(session: AppSession): void {
    this.sessions = this.sessions.filter((one) => one !== session);
  }

  /** The number of sessions taking new streams (for tests and /config). */
  get size(): number {
    return this.sessions.length;
  }

  /** GOAWAY to the app on every session; streams in flight finish. */
  close(): void {
    this.closed = true;
    for (const one of this.sessions.splice(0)) one.session.close();
  }

  destroy(): void {
    this.closed = true;
    for (const one of this.sessions.splice(0)) one.session.destroy();
  }
}

/**
 * The proxy port's HTTP/2 side: sockets whose first bytes were the h2c preface are handed to one
 * node:http2 server (all framing is nghttp2's), each stream becomes a StreamExchange. Hostile
 * clients meet bounded settings (header list size and pairs, session memory, SETTINGS count,
 * invalid frames) and a count of streams they reset before an answer (CVE-2023-44487, rapid
 * reset): past RESETS_PER_WINDOW in RESET_WINDOW_MS the session gets GOAWAY ENHANCE_YOUR_CALM.
 */
import { constants, createServer, type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import { StreamExchange } from './stream-exchange.js';
import type { StreamHost } from './stream-host.js';

/** Streams one client may have open at once (RFC 9113 recommends no fewer than 100). */
export const MAX_CONCURRENT_STREAMS = 256;
const RESETS_PER_WINDOW = 200;
const RESET_WINDOW_MS = 10_000;
/** An HTTP/2 connection with no stream for this long is closed (HTTP/1.1's keep-alive timeout). */
const SESSION_IDLE_MS = 65_000;

interface ResetCount {
  windowStart: number;
  resets: number;
}

/** The client side each session belongs to, for the one 'aborted' listener every stream shares. */
const owners = new WeakMap<Http2Session, Http2ClientSide>();

/** Emitted with the stream as `this`: no closure per stream. */
function onStreamAborted(this: ServerHttp2Stream): void {
  const session = this.session;
  if (session !== undefined) owners.get(session)?.countReset(session);
}

export class Http2ClientSide {
  private readonly server: Http2Server;
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly resets = new WeakMap<Http2Session, ResetCount>();

  constructor(private readonly host: StreamHost, maxHeaderSize: number) {
    this.server = createServer({
      maxSessionMemory: 16,
      maxHeaderListPairs: 256,
      maxSettings: 32,
      maxSessionInvalidFrames: 100,
      maxSessionRejectedStreams: 100,
      settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS, maxHeaderListSize: maxHeaderSize, enablePush: false },
    });
    this.server.on('session', this.onSession);
    this.server.on('stream', this.onStream);
    this.server.on('sessionError', ignore);
  }

  /** A socket whose first bytes (put back into it) are the connection preface. */
  accept(socket: Socket): void {
    this.server.emit('connection', socket);
  }

  private readonly onSession = (session: ServerHttp2Session): void => {
    this.sessions.add(session);
    owners.set(session, this);
    session.on('error', ignore);
    session.setTimeout(SESSION_IDLE_MS, () => session.close());
    session.once('close', () => this.sessions.delete(session));
    if (this.host.isDraining()) session.close();
  };

  private readonly onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void => {
    stream.on('aborted', onStreamAborted); // emitted once at most
    new StreamExchange(this.host, stream, headers, rawHeaders).begin();
  };

  /** @internal — a stream of `session` was reset by its client before its answer. */
  countReset(session: Http2Session): void {
    if (session.destroyed) return;
    const now = performance.now();
    let count = this.resets.get(session);
    if (count === undefined || now - count.windowStart > RESET_WINDOW_MS) {
      count = { windowStart: now, resets: 0 };
      this.resets.set(session, count);
    }
    count.resets += 1;
    if (count.resets <= RESETS_PER_WINDOW) return;
    this.host.clientError('malformed', { detail: 'rapid reset', resets: count.resets });
    session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    session.destroy();
  }

  /** GOAWAY to every client: streams in flight finish, no new ones start. */
  drain(): void {
    for (const session of this.sessions) session.close();
  }

  destroy(): void {
    for (const session of this.sessions) session.destroy();
    this.sessions.clear();
  }
}

const ignore = (): void => undefined;

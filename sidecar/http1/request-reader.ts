/**
 * A client connection's bytes into its one request parser. While a request waits (queued for the
 * limiter, or exchanging) nothing is parsed: what arrives is kept and reading stops, and parsing goes
 * on with it afterwards. The connection's phase says which; the parser's callbacks go to the connection.
 */
import { isEnded } from './connection-phase.js';
import type { ClientSocket } from './client-socket.js';
import { ERROR_OK, ERROR_PAUSED, ERROR_PAUSED_UPGRADE, HttpParser, REQUEST, type ParserSink } from './llhttp.js';

export interface ReaderOwner extends ParserSink {
  /** The parser refused `chunk`'s bytes. */
  malformed(parser: HttpParser, chunk: Buffer): void;
  /** An upgrade request was answered without the app: nothing after its head may be read. */
  close(): void;
}

export class RequestReader {
  readonly parser: HttpParser;
  /** Bytes read while parsing waits, parsed when it goes on. */
  private held: Buffer | null = null;

  constructor(private readonly link: ClientSocket, private readonly owner: ReaderOwner, maxHeaderSize: number) {
    this.parser = new HttpParser(REQUEST, owner, maxHeaderSize);
  }

  /** Bytes that arrived while parsing waits: kept, and the socket stops reading. */
  hold(chunk: Buffer): void {
    this.held = this.held === null ? chunk : Buffer.concat([this.held, chunk]);
    this.link.socket.pause();
  }

  feed(chunk: Buffer): void {
    const parser = this.parser;
    const result = parser.execute(chunk);
    if (result === ERROR_OK) return;
    const phase = this.link.phase;
    if (isEnded(phase)) return;
    if (result !== ERROR_PAUSED && result !== ERROR_PAUSED_UPGRADE) {
      this.owner.malformed(parser, chunk);
      return;
    }
    const rest = chunk.subarray(parser.consumed);
    if (phase === 'queued') {
      // Paused after a queued request's head: more bytes (its body) wait in the socket. With
      // none, reading goes on, so a client that leaves is seen (and leaves the queue) at once.
      if (rest.length > 0) this.hold(rest);
      return;
    }
    if (phase !== 'exchanging') {
      if (result === ERROR_PAUSED_UPGRADE) {
        this.owner.close(); // an upgrade request answered here (open circuit)
        return;
      }
      // The request was answered while it was parsed: go on with the next one.
      parser.resume();
      if (rest.length > 0) this.feed(rest);
      return;
    }
    // Reading goes on while the exchange runs (a pause and resume per request cost a nextTick
    // each); bytes that arrive meanwhile are held and stop it (hold()).
    if (rest.length > 0) this.hold(rest);
  }

  /** Parsing goes on after a wait; returns what arrived meanwhile, for the caller to feed. */
  resume(): Buffer | null {
    this.parser.resume();
    const held = this.takeHeld();
    this.link.socket.resume();
    return held;
  }

  takeHeld(): Buffer | null {
    const held = this.held;
    this.held = null;
    return held;
  }
}

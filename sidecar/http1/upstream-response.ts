/**
 * The app's response on one upstream connection, read: each read's bytes go to llhttp, or, for a
 * body of known length, are counted here; the head and the body are told to the connection's user,
 * and the end of the response, a 101's hand-over or a framing anomaly to the connection.
 */
import { BadGatewayError } from '../core/failures.js';
import { countableContentLength, keepAliveHintMs } from './heads.js';
import { ERROR_OK, ERROR_PAUSED, ERROR_PAUSED_UPGRADE, HEAD_BODY, HEAD_NO_BODY, HttpParser, RESPONSE, type ParserSink } from './llhttp.js';
import type { UpstreamUser } from './upstream-user.js';

/** The connection the response arrives on. */
export interface ResponseOwner {
  /** The exchange the response is for; null once it is done with the connection. */
  readonly user: UpstreamUser | null;
  /** The final response head arrived: the body-idle clock starts. */
  responseStarted(): void;
  /** A piece of body arrived: the body-idle clock starts again. */
  bodyArrived(): void;
  /** The response ended; `reusable` when nothing followed it and both sides keep the connection. */
  finishResponse(reusable: boolean): void;
  /** A 101 was answered: the socket leaves HTTP with the bytes after the head. */
  handOver(rest: Buffer): void;
  fail(error: BadGatewayError): void;
}

export class UpstreamResponse implements ParserSink {
  private readonly parser: HttpParser;
  /** Bytes of this response received so far. */
  received = 0;
  /** The final response head arrived. */
  responding = false;
  private interim = false;
  private upgrading = false;
  /** The response is complete. */
  done = false;
  /**
   * Bytes of a Content-Length body still to come. They are counted here, not by the parser: no
   * copy into WebAssembly memory, and large ones are read into buffers of their own.
   */
  bodyLeft = 0;

  constructor(private readonly owner: ResponseOwner, maxHeaderSize: number) {
    this.parser = new HttpParser(RESPONSE, this, maxHeaderSize);
  }

  /** A new request went out: its response is still to come. */
  expect(): void {
    this.received = 0;
    this.responding = false;
    this.done = false;
    this.bodyLeft = 0;
    this.interim = false;
  }

  /**
   * The first `length` bytes of `chunk` were read. `owned`: the chunk is a buffer read for it alone
   * (not the shared read buffer).
   */
  read(chunk: Buffer, length: number, owned: boolean): void {
    this.received += length;
    if (this.bodyLeft > 0) {
      this.countBody(length === chunk.length ? chunk : chunk.subarray(0, length), owned);
      return;
    }
    const parser = this.parser;
    const result = parser.execute(chunk, length);
    const user = this.owner.user;
    if (user === null) return;
    if (result === ERROR_OK) {
      user.onChunkParsed();
      return;
    }
    if (result === ERROR_PAUSED && this.bodyLeft > 0) {
      this.countBody(chunk.subarray(parser.consumed, length), owned);
      return;
    }
    if (result === ERROR_PAUSED && this.done) {
      this.owner.finishResponse(parser.consumed === length && parser.keepAlive);
      return;
    }
    if (result === ERROR_PAUSED_UPGRADE && this.upgrading) {
      this.owner.handOver(Buffer.from(chunk.subarray(parser.consumed, length)));
      return;
    }
    this.owner.fail(new BadGatewayError('invalid-response', `${parser.errorCode}: ${parser.errorReason}`));
  }

  /** Body bytes of a counted Content-Length body; any byte beyond it means the app is not to be trusted. */
  private countBody(bytes: Buffer, owned: boolean): void {
    const user = this.owner.user as UpstreamUser;
    if (bytes.length === 0) {
      user.onChunkParsed();
      return;
    }
    const left = this.bodyLeft;
    const piece = bytes.length <= left ? bytes : bytes.subarray(0, left);
    this.bodyLeft = left - piece.length;
    this.owner.bodyArrived();
    user.onResponseBody(piece, owned);
    if (this.owner.user === null || this.bodyLeft > 0) return;
    this.done = true;
    this.owner.finishResponse(piece.length === bytes.length && this.parser.keepAlive);
  }

  /** The app closed its side: whether that completed the response (one delimited by the close). */
  completesAtEnd(): boolean {
    if (this.received === 0 || this.done || this.bodyLeft !== 0) return false;
    const result = this.parser.finish();
    return (result === ERROR_OK || result === ERROR_PAUSED) && this.done;
  }

  /** Ready for the next response on a kept connection; the app's Keep-Alive hint in ms, if any. */
  next(): number | undefined {
    this.parser.resume();
    return keepAliveHintMs(this.parser.fields);
  }

  close(): void {
    this.parser.close();
  }

  // ParserSink: called from inside parser.execute.

  onHead(parser: HttpParser): number {
    const user = this.owner.user;
    if (user === null) return -1;
    // llhttp also frames `HTTP/2.0 200` and `HTTP/0.9 200`: not an HTTP/1.x app's answer.
    if (parser.versionMajor !== 1) return -1;
    const status = parser.statusCode;
    if (status >= 100 && status < 200 && status !== 101) {
      this.interim = true;
      return user.onInterim(parser) ? 0 : -1;
    }
    const answer = user.onResponseHead(parser);
    if (answer < 0) return -1;
    this.upgrading = status === 101;
    this.responding = true;
    this.owner.responseStarted();
    // A Content-Length body is counted by us (the parser is told there is none and pauses at its
    // end); 204 and 304 have no body whatever their Content-Length says.
    if (answer === HEAD_BODY && status !== 101 && status !== 204 && status !== 304) {
      const length = countableContentLength(parser.fields);
      if (length > 0) {
        this.bodyLeft = length;
        return HEAD_NO_BODY;
      }
    }
    return answer;
  }

  onBody(piece: Buffer): void {
    this.owner.bodyArrived();
    this.owner.user?.onResponseBody(piece, false);
  }

  onMessageComplete(): number {
    if (this.interim) {
      this.interim = false;
      return 0;
    }
    if (this.upgrading) return 0;
    if (this.bodyLeft > 0) return ERROR_PAUSED; // the counted body follows
    this.done = true;
    return ERROR_PAUSED;
  }
}

/**
 * EXPERIMENT (issue 18's open question), selected by BADGATEWAY_EXPERIMENTAL_PARSER=native: message
 * heads parsed by Node's own llhttp binding (`HTTPParser` of `_http_common`, an undocumented
 * internal), bodies framed here. The surface is llhttp.ts's MessageParser, with the same errno
 * values and pause semantics, so the data path does not know which parser it drives.
 *
 * - Heads: one native callback per head (kOnHeadersComplete; more than 32 fields arrive before it
 *   through kOnHeaders). The callback only records the head and returns 2 ("upgrade, no body"), so
 *   llhttp stops right after the head; the sink is called after `execute` returns, outside the
 *   binding, and the native parser is re-initialized before the next message (after such a stop,
 *   the binding reports later parse errors as plain byte counts). `pause()` is never called.
 * - Content-Length bodies and bodiless messages are framed here (counting, body pieces are views
 *   of the caller's chunk, as in llhttp.ts).
 * - Chunked bodies (requests and responses) and close-delimited responses are NOT framed here: the
 *   message's body goes to a WebAssembly llhttp parser of llhttp.ts, started with a synthetic head
 *   that has the same framing, and its callbacks are passed on.
 *
 * The head-size limit is checked with llhttp.ts's own count once the head is complete (the native
 * binding is given the limit too, as a bound for heads that never complete); a request line with
 * more than one space before the target is refused as llhttp.ts does.
 */
import { createRequire } from 'node:module';
import {
  ERROR_CB_HEADERS_COMPLETE, ERROR_CB_MESSAGE_COMPLETE, ERROR_INVALID_EOF_STATE, ERROR_OK, ERROR_PAUSED, ERROR_PAUSED_UPGRADE, ERROR_USER,
  HEAD_NO_BODY, HttpParser, METHOD_NAMES, errnoOf, REQUEST, RESPONSE, type MessageParser, type ParserSink,
} from './llhttp.js';

interface NativeError {
  code: string;
  reason: string;
  bytesParsed: number;
}

interface NativeHttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenientFlags: number): void;
  execute(data: Buffer): number | NativeError;
  close(): void;
  [callback: number]: unknown;
}

interface NativeBinding {
  new (): NativeHttpParser;
  REQUEST: number;
  RESPONSE: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kLenientNone: number;
}

let binding: NativeBinding | null = null;

/** The internal, loaded only when this variant is chosen; fails loudly if its shape changed. */
function nativeBinding(): NativeBinding {
  if (binding !== null) return binding;
  const loaded = (createRequire(import.meta.url)('_http_common') as { HTTPParser?: NativeBinding }).HTTPParser;
  if (typeof loaded !== 'function' || typeof loaded.kOnHeadersComplete !== 'number' || typeof loaded.kOnHeaders !== 'number'
    || typeof loaded.prototype.initialize !== 'function' || typeof loaded.prototype.execute !== 'function') {
    throw new Error(`native llhttp binding not usable on Node ${process.version}: use the default parser`);
  }
  binding = loaded;
  return loaded;
}

/** The parser whose native `execute` runs: the binding's callbacks reach it through this slot. */
let current: NativeParser | null = null;

function onHeaders(headers: string[], url: string): void {
  (current as NativeParser).flushed(headers, url);
}

function onHeadersComplete(
  versionMajor: number, versionMinor: number, headers: string[] | undefined, method: number, url: string | undefined,
  statusCode: number | undefined, statusMessage: string | undefined, upgrade: boolean, keepAlive: boolean,
): number {
  (current as NativeParser).headDone(versionMajor, versionMinor, headers, method, url, statusCode, statusMessage, upgrade, keepAlive);
  return 2; // llhttp: "upgrade, no body": it stops right after the head
}

const RESOURCE = {};
/** Request-line bytes kept to check the space before the target (method, spaces, leading CRLFs). */
const LINE_PREFIX = 32;

const SYNTHETIC_CHUNKED_REQUEST = Buffer.from('POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n', 'latin1');
const SYNTHETIC_CHUNKED_RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 'latin1');
const SYNTHETIC_EOF_RESPONSE = Buffer.from('HTTP/1.1 200 OK\r\n\r\n', 'latin1');

const S_HEAD = 0;
const S_LENGTH = 1;
/** The head is done and the message has no (more) body: complete it. */
const S_COMPLETE = 2;
/** The body is framed by the WebAssembly delegate. */
const S_DELEGATE = 3;
/** After an upgrade: nothing more is parsed. */
const S_UPGRADED = 4;
const S_FAILED = 5;

/** Passes the WebAssembly delegate's body callbacks to the native parser's sink. */
class BodyDelegate implements ParserSink {
  constructor(private readonly owner: NativeParser) {}

  onHead(): number {
    return 0;
  }

  onBody(piece: Buffer): void {
    this.owner.sink.onBody(piece);
  }

  onMessageComplete(): number {
    this.owner.delegateDone();
    return ERROR_PAUSED; // the delegate never parses past its message; the native parser takes the next head
  }
}

export class NativeParser implements MessageParser {
  private native: NativeHttpParser | null;
  private fresh = false;
  method = '';
  target = '';
  statusCode = 0;
  statusText = '';
  versionMinor = 1;
  versionMajor = 1;
  headers: string[] = [];
  upgrade = false;
  keepAlive = false;
  headOverflow = false;
  consumed = 0;
  errorCode = '';
  errorReason = '';
  private state = S_HEAD;
  private paused = false;
  private errno = ERROR_OK;
  /** Set by the native callback during execute. */
  private gotHead = false;
  private method_ = 0;
  /** Bytes of the current head fed so far (0: between messages). */
  private headBytes = 0;
  private linePrefix = '';
  private remaining = 0;
  /** The message ends with an upgrade: parsing stops after it. */
  private upgradeAfter = false;
  private delegate: HttpParser | null = null;
  private delegateFinished = false;

  constructor(
    readonly kind: typeof REQUEST | typeof RESPONSE,
    public sink: ParserSink,
    private readonly maxHeadSize: number,
  ) {
    const Binding = nativeBinding();
    const native = new Binding();
    native[Binding.kOnHeaders] = onHeaders;
    native[Binding.kOnHeadersComplete] = onHeadersComplete;
    this.native = native;
    this.reinitialize();
  }

  private reinitialize(): void {
    const Binding = binding as NativeBinding;
    // The binding errs at `limit` bytes of its own count (target, status text, names and values),
    // never above llhttp.ts's count: the exact limit is checked at the head's end.
    (this.native as NativeHttpParser).initialize(this.kind === REQUEST ? Binding.REQUEST : Binding.RESPONSE, RESOURCE, this.maxHeadSize + 1, Binding.kLenientNone);
    this.fresh = true;
    this.headers = [];
    this.target = '';
    this.headBytes = 0;
    this.linePrefix = '';
  }

  execute(chunk: Buffer): number {
    if (this.state === S_FAILED) return this.fail(this.errno, 0);
    if (this.paused) {
      this.consumed = 0;
      return ERROR_PAUSED;
    }
    let offset = 0;
    for (;;) {
      switch (this.state) {
        case S_HEAD: {
          if (offset === chunk.length) {
            this.consumed = offset;
            return ERROR_OK;
          }
          const result = this.parseHead(offset === 0 ? chunk : chunk.subarray(offset));
          if (result < 0) {
            this.consumed = chunk.length;
            return ERROR_OK; // the head goes on in the next read
          }
          offset += result;
          if ((this.state as number) === S_FAILED) {
            this.consumed = offset;
            return this.errno;
          }
          if (this.paused) {
            this.consumed = offset;
            return ERROR_PAUSED;
          }
          break;
        }
        case S_LENGTH: {
          if (offset === chunk.length) {
            this.consumed = offset;
            return ERROR_OK;
          }
          const take = Math.min(this.remaining, chunk.length - offset);
          this.remaining -= take;
          if (this.remaining === 0) this.state = S_COMPLETE;
          this.sink.onBody(chunk.subarray(offset, offset + take));
          offset += take;
          break;
        }
        case S_COMPLETE: {
          const result = this.completeMessage();
          if (result !== ERROR_OK) {
            this.consumed = offset;
            return result;
          }
          break;
        }
        case S_DELEGATE: {
          const delegate = this.delegate as HttpParser;
          const rest = offset === 0 ? chunk : chunk.subarray(offset);
          const result = delegate.execute(rest);
          if (result === ERROR_OK) {
            this.consumed = chunk.length;
            return ERROR_OK;
          }
          if (result !== ERROR_PAUSED) {
            this.errorCode = delegate.errorCode;
            this.errorReason = delegate.errorReason;
            return this.fail(result, offset + delegate.consumed);
          }
          // The delegate's message ended (delegateDone set S_COMPLETE)
          offset += delegate.consumed;
          break;
        }
        case S_UPGRADED:
          this.consumed = offset;
          return ERROR_PAUSED_UPGRADE;
        default:
          return this.fail(this.errno, offset);
      }
    }
  }

  /** Feeds head bytes to the binding: the bytes of the head it consumed, or -1 if the head is not complete. */
  private parseHead(data: Buffer): number {
    if (!this.fresh) this.reinitialize();
    if (this.kind === REQUEST && this.linePrefix.length < LINE_PREFIX) this.linePrefix += data.toString('latin1', 0, Math.min(data.length, LINE_PREFIX - this.linePrefix.length));
    this.gotHead = false;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the binding's callbacks reach the parser through this slot
    current = this;
    let result: number | NativeError;
    try {
      result = (this.native as NativeHttpParser).execute(data);
    } finally {
      current = null;
    }
    if (typeof result !== 'number') {
      this.headOverflow = result.code === 'HPE_HEADER_OVERFLOW';
      this.errorCode = result.code;
      this.errorReason = result.reason;
      this.fail(this.headOverflow ? ERROR_USER : errnoOf(result.code), 0);
      return result.bytesParsed;
    }
    if (!this.gotHead) {
      this.headBytes += data.length;
      return -1;
    }
    this.fresh = false;
    this.headBytes = 0;
    this.afterHead();
    return result;
  }

  /** @internal — kOnHeaders: a flush of 32 fields (and the target so far). */
  flushed(headers: string[], url: string | undefined): void {
    for (const text of headers) this.headers.push(text);
    if (url !== undefined) this.target += url;
  }

  /** @internal — kOnHeadersComplete. */
  headDone(
    versionMajor: number, versionMinor: number, headers: string[] | undefined, method: number, url: string | undefined,
    statusCode: number | undefined, statusMessage: string | undefined, upgrade: boolean, keepAlive: boolean,
  ): void {
    this.gotHead = true;
    if (headers !== undefined) this.headers = headers;
    if (url !== undefined) this.target += url;
    this.versionMajor = versionMajor;
    this.versionMinor = versionMinor;
    this.method_ = method;
    this.statusCode = statusCode ?? 0;
    this.statusText = statusMessage ?? '';
    this.upgrade = upgrade;
    this.keepAlive = keepAlive;
  }

  /** Checks the head as llhttp.ts does, hands it to the sink and decides the body's framing. */
  private afterHead(): void {
    const request = this.kind === REQUEST;
    this.method = request ? METHOD_NAMES[this.method_] ?? '' : '';
    const headers = this.headers;
    let size = this.target.length + this.statusText.length;
    let chunked = false;
    let length = -1;
    for (let index = 0; index < headers.length; index += 2) {
      const name = headers[index] as string;
      const value = headers[index + 1] as string;
      size += name.length + 4 + value.length;
      if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') chunked = true;
      else if (name.length === 14 && name.toLowerCase() === 'content-length') length = Number(value);
    }
    if (size > this.maxHeadSize) {
      this.headOverflow = true;
      this.errorCode = 'HPE_HEADER_OVERFLOW';
      this.errorReason = 'Header overflow';
      this.fail(ERROR_USER, 0);
      return;
    }
    if (request && this.linePrefix.replace(/^[\r\n]+/, '').charCodeAt(this.method.length + 1) === 0x20) {
      this.errorCode = 'HPE_USER';
      this.errorReason = 'Span callback error in on_url';
      this.fail(ERROR_USER, 0);
      return;
    }
    const answer = this.sink.onHead(this);
    if (answer !== 0 && answer !== HEAD_NO_BODY && answer !== ERROR_PAUSED) {
      this.errorCode = 'HPE_CB_HEADERS_COMPLETE';
      this.errorReason = 'User callback error';
      this.fail(ERROR_CB_HEADERS_COMPLETE, 0);
      return;
    }
    if (answer === ERROR_PAUSED) this.paused = true;
    const status = this.statusCode;
    const hasBody = chunked || length > 0;
    this.upgradeAfter = this.upgrade; // llhttp's flag: a request's Connection: upgrade, or a 101 with it
    if ((request && this.upgrade && (this.method === 'CONNECT' || !hasBody)) || (!request && status === 101)) {
      this.state = S_COMPLETE;
    } else if (answer === HEAD_NO_BODY || (!request && ((status >= 100 && status < 200) || status === 204 || status === 304))) {
      this.state = S_COMPLETE;
    } else if (chunked) {
      this.startDelegate(request ? SYNTHETIC_CHUNKED_REQUEST : SYNTHETIC_CHUNKED_RESPONSE);
    } else if (length > 0) {
      this.remaining = length;
      this.state = S_LENGTH;
    } else if (length === 0 || request) {
      this.state = S_COMPLETE;
    } else {
      this.startDelegate(SYNTHETIC_EOF_RESPONSE);
    }
  }

  private startDelegate(head: Buffer): void {
    let delegate = this.delegate;
    if (delegate === null) {
      delegate = new HttpParser(this.kind, new BodyDelegate(this), this.maxHeadSize);
      this.delegate = delegate;
    } else {
      delegate.resume();
    }
    this.delegateFinished = false;
    this.state = S_DELEGATE;
    delegate.execute(head);
  }

  /** @internal — the delegate's message ended: this one ends (the sink is told in completeMessage). */
  delegateDone(): void {
    this.delegateFinished = true;
    this.state = S_COMPLETE;
  }

  /** The message ended: tells the sink; returns ERROR_OK to go on, or how execute stops. */
  private completeMessage(): number {
    this.state = this.upgradeAfter ? S_UPGRADED : S_HEAD;
    const answer = this.sink.onMessageComplete();
    if (answer === ERROR_PAUSED) {
      this.paused = true;
      return ERROR_PAUSED;
    }
    if (answer !== ERROR_OK) {
      this.errorCode = 'HPE_CB_MESSAGE_COMPLETE';
      this.errorReason = 'User callback error';
      return this.fail(ERROR_CB_MESSAGE_COMPLETE, 0);
    }
    return this.state === S_UPGRADED ? ERROR_PAUSED_UPGRADE : ERROR_OK;
  }

  private fail(errno: number, consumed: number): number {
    this.state = S_FAILED;
    this.errno = errno;
    this.consumed = consumed;
    return errno;
  }

  finish(): number {
    if (this.state === S_FAILED) return this.errno;
    if (this.state === S_DELEGATE) {
      const delegate = this.delegate as HttpParser;
      const result = delegate.finish();
      if (result !== ERROR_OK && result !== ERROR_PAUSED) {
        this.errorCode = delegate.errorCode;
        this.errorReason = delegate.errorReason;
        return this.fail(result, 0);
      }
      if (!this.delegateFinished) return ERROR_OK;
      return this.completeMessage();
    }
    if (this.state === S_LENGTH || (this.state === S_HEAD && this.headBytes > 0)) {
      this.errorCode = 'HPE_INVALID_EOF_STATE';
      this.errorReason = 'Invalid EOF state';
      return this.fail(ERROR_INVALID_EOF_STATE, 0);
    }
    return ERROR_OK;
  }

  resume(): void {
    this.paused = false;
  }

  needsEof(): boolean {
    return this.state === S_DELEGATE && (this.delegate as HttpParser).needsEof();
  }

  close(): void {
    this.native?.close();
    this.native = null;
    this.delegate?.close();
    this.delegate = null;
  }
}

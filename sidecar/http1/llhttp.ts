/**
 * Parser glue: llhttp, the parser node:http and undici trust, as undici's WebAssembly build (undici
 * is pinned to an exact version in package.json; no Node internals). One instance serves every
 * parser of the process; each parser is an llhttp_t in its memory. Callbacks arrive by index through
 * the module-level `current` parser, as in undici's client-h1.js: no closure per parser or request.
 *
 * A parser collects the message head (method or status, target, header fields) and hands it to
 * its sink at headers-complete; body pieces are views into the caller's chunk, valid only during
 * the sink call (the sink writes or copies them).
 */
import { createRequire } from 'node:module';
import { HeadFields } from './head-fields.js';
import { HeadSpans, SPAN_FIELD, SPAN_STATUS, SPAN_TARGET, SPAN_VALUE, type HeadText } from './head-spans.js';

/**
 * The WebAssembly bytes are required at run time, not imported: a bundler's ESM interop
 * (esbuild's __toESM) copies every own property of a CommonJS export, and for a Buffer that is one
 * accessor per byte — about 25 MiB of heap for the two builds (measured: idle RssAnon 22 → 50 MiB).
 */
const requireAtRunTime = createRequire(import.meta.url);
const SIMD_BUILD = 'undici/lib/llhttp/llhttp_simd-wasm.js';
const PLAIN_BUILD = 'undici/lib/llhttp/llhttp-wasm.js';

export const REQUEST = 1;
export const RESPONSE = 2;

/** llhttp_errno_t values this code acts on (llhttp's api.h). */
export const ERROR_OK = 0;
export const ERROR_PAUSED = 21;
export const ERROR_PAUSED_UPGRADE = 22;
export const ERROR_USER = 24;

/** on_headers_complete's return values: go on, no body follows (HEAD), no body and upgrade. */
export const HEAD_BODY = 0;
export const HEAD_NO_BODY = 1;

export interface ParserSink {
  /** The head is complete; the parser's fields describe it. Returns HEAD_BODY or HEAD_NO_BODY. */
  onHead(parser: HttpParser): number;
  /** A piece of decoded body, a view into the chunk being parsed. */
  onBody(piece: Buffer): void;
  /** The message ended; return ERROR_PAUSED to stop parsing right after it. */
  onMessageComplete(): number;
}

interface LlhttpExports {
  memory: { buffer: ArrayBuffer };
  llhttp_alloc(type: number): number;
  llhttp_free(ptr: number): void;
  llhttp_execute(ptr: number, data: number, length: number): number;
  llhttp_resume(ptr: number): void;
  llhttp_resume_after_upgrade(ptr: number): void;
  llhttp_finish(ptr: number): number;
  llhttp_get_method(ptr: number): number;
  llhttp_get_http_major(ptr: number): number;
  llhttp_get_http_minor(ptr: number): number;
  llhttp_get_status_code(ptr: number): number;
  llhttp_get_upgrade(ptr: number): number;
  llhttp_should_keep_alive(ptr: number): number;
  llhttp_message_needs_eof(ptr: number): number;
  llhttp_get_error_pos(ptr: number): number;
  llhttp_get_error_reason(ptr: number): number;
  llhttp_errno_name(errno: number): number;
  llhttp_method_name(method: number): number;
  malloc(size: number): number;
  free(ptr: number): void;
}

let current: HttpParser | null = null;
let currentChunk: Buffer | null = null;
let currentPtr = 0;

const imports = {
  env: {
    wasm_on_message_begin: (): number => (current as HttpParser).beginMessage(),
    wasm_on_url: (_p: number, at: number, length: number): number => (current as HttpParser).addTarget(at - currentPtr, length),
    wasm_on_status: (_p: number, at: number, length: number): number => (current as HttpParser).addStatusText(at - currentPtr, length),
    wasm_on_header_field: (_p: number, at: number, length: number): number => (current as HttpParser).addField(at - currentPtr, length),
    wasm_on_header_value: (_p: number, at: number, length: number): number => (current as HttpParser).addValue(at - currentPtr, length),
    wasm_on_headers_complete: (): number => (current as HttpParser).completeHead(),
    wasm_on_body: (_p: number, at: number, length: number): number => {
      const start = at - currentPtr;
      (current as HttpParser).sink.onBody((currentChunk as Buffer).subarray(start, start + length));
      return 0;
    },
    wasm_on_message_complete: (): number => (current as HttpParser).completeMessage(),
  },
};

/** The part of the WebAssembly global used here (the project's lib settings have no DOM types). */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}

function instantiate(): LlhttpExports {
  const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
  let module: object;
  try {
    module = new wasm.Module(requireAtRunTime(SIMD_BUILD) as Uint8Array);
  } catch {
    module = new wasm.Module(requireAtRunTime(PLAIN_BUILD) as Uint8Array);
  }
  return new wasm.Instance(module, imports).exports as LlhttpExports;
}

const llhttp = instantiate();

function cString(ptr: number): string {
  if (ptr === 0) return '';
  const bytes = new Uint8Array(llhttp.memory.buffer, ptr);
  return Buffer.from(bytes.subarray(0, bytes.indexOf(0))).toString('latin1');
}

/** Method names by llhttp's method index (0 DELETE ... 46 QUERY), read once from the parser itself. */
const METHOD_NAMES: readonly string[] = Array.from({ length: 47 }, (_, index) => cString(llhttp.llhttp_method_name(index)));

/** One input buffer inside the WebAssembly memory, grown as needed, shared by every parser. */
let inputPtr = 0;
let inputSize = 0;
let inputView: Uint8Array | null = null;

/** The first `length` bytes of `chunk` into the input buffer. */
function copyIn(chunk: Buffer, length: number): void {
  if (length > inputSize) {
    if (inputPtr !== 0) llhttp.free(inputPtr);
    inputSize = Math.ceil(length / 65_536) * 65_536;
    inputPtr = llhttp.malloc(inputSize);
    inputView = null;
  }
  if (inputView === null || inputView.buffer !== llhttp.memory.buffer) inputView = new Uint8Array(llhttp.memory.buffer, inputPtr, inputSize);
  chunk.copy(inputView, 0, 0, length);
}

export class HttpParser implements HeadText {
  private ptr: number;
  /** Request: method name; response: ''. */
  method = '';
  target = '';
  statusCode = 0;
  statusText = '';
  versionMinor = 1;
  versionMajor = 1;
  /** The head's fields as received, as ranges into its decoded text (no string per name and value). */
  readonly fields = new HeadFields();
  upgrade = false;
  keepAlive = false;
  /** Bytes of the current head so far, against maxHeadSize. */
  private headSize = 0;
  private targetStarted = false;
  private readonly spans = new HeadSpans();
  /** Set when the head passed maxHeadSize; execute then reports ERROR_USER. */
  headOverflow = false;
  /** The request target alone passed maxHeadSize (414, not 431). */
  private targetOverflow = false;
  /** Bytes of the chunk consumed before a pause, an upgrade or an error. */
  consumed = 0;
  errorCode = '';
  errorReason = '';

  constructor(
    readonly kind: typeof REQUEST | typeof RESPONSE,
    public sink: ParserSink,
    private readonly maxHeadSize: number,
  ) {
    this.ptr = llhttp.llhttp_alloc(kind);
  }

  /**
   * Parses the first `length` bytes of `chunk` (a read into a reused buffer needs no view of its
   * own); returns an llhttp errno (ERROR_OK, ERROR_PAUSED, ERROR_PAUSED_UPGRADE or an error).
   */
  execute(chunk: Buffer, length = chunk.length): number {
    if (current !== null) throw new Error('llhttp: re-entrant execute');
    copyIn(chunk, length);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- WebAssembly callbacks reach the parser through this slot
    current = this;
    currentChunk = chunk;
    currentPtr = inputPtr;
    let result: number;
    try {
      result = llhttp.llhttp_execute(this.ptr, inputPtr, length);
      // A head not complete at the end of this read: its pieces so far become strings now.
      if (this.spans.pending) this.spans.flushInto(this, chunk);
    } finally {
      current = null;
      currentChunk = null;
    }
    this.consumed = result === ERROR_OK ? length : llhttp.llhttp_get_error_pos(this.ptr) - inputPtr;
    if (result !== ERROR_OK && result !== ERROR_PAUSED && result !== ERROR_PAUSED_UPGRADE) this.readError(result);
    return result;
  }

  /** The peer closed: completes a message delimited by the end of the connection. */
  finish(): number {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- as in execute
    current = this;
    let result: number;
    try {
      result = llhttp.llhttp_finish(this.ptr);
    } finally {
      current = null;
    }
    if (result !== ERROR_OK) this.readError(result);
    return result;
  }

  /** The fields as a flat [name, value, ...] list as received, made on first use (see `fields`). */
  get headers(): readonly string[] {
    return this.fields.list();
  }

  resume(): void {
    llhttp.llhttp_resume(this.ptr);
  }

  /** Whether the response in progress is delimited by the end of the connection. */
  needsEof(): boolean {
    return llhttp.llhttp_message_needs_eof(this.ptr) === 1;
  }

  close(): void {
    if (this.ptr === 0) return;
    llhttp.llhttp_free(this.ptr);
    this.ptr = 0;
  }

  private readError(errno: number): void {
    if (this.headOverflow) {
      this.errorCode = this.targetOverflow ? 'HPE_URI_OVERFLOW' : 'HPE_HEADER_OVERFLOW';
      this.errorReason = this.targetOverflow ? 'Request target overflow' : 'Header overflow';
      return;
    }
    this.errorCode = cString(llhttp.llhttp_errno_name(errno));
    this.errorReason = cString(llhttp.llhttp_get_error_reason(this.ptr));
  }

  private grow(length: number): number {
    this.headSize += length;
    if (this.headSize <= this.maxHeadSize) return 0;
    this.headOverflow = true;
    return -1;
  }

  beginMessage(): number {
    this.method = '';
    this.target = '';
    this.statusCode = 0;
    this.statusText = '';
    this.fields.reset();
    this.headSize = 0;
    this.targetStarted = false;
    return 0;
  }

  addTarget(start: number, length: number): number {
    // llhttp skips repeated spaces before the target; RFC 9112 §3 allows exactly one.
    if (!this.targetStarted && start >= 2 && (currentChunk as Buffer)[start - 2] === 0x20) return -1;
    this.targetStarted = true;
    this.spans.add(SPAN_TARGET, start, length);
    if (this.grow(length) === 0) return 0;
    this.targetOverflow = true;
    return -1;
  }

  addStatusText(start: number, length: number): number {
    this.spans.add(SPAN_STATUS, start, length);
    return this.grow(length);
  }

  addField(start: number, length: number): number {
    this.spans.add(SPAN_FIELD, start, length);
    return this.grow(length + 4);
  }

  addValue(start: number, length: number): number {
    this.spans.add(SPAN_VALUE, start, length);
    return this.grow(length);
  }

  /** Trailer fields (after a chunked body) join the message's header list, as they arrive. */
  completeMessage(): number {
    if (this.spans.pending && currentChunk !== null) this.spans.flushInto(this, currentChunk);
    return this.sink.onMessageComplete();
  }

  completeHead(): number {
    if (this.spans.pending) this.spans.flushInto(this, currentChunk as Buffer);
    const ptr = this.ptr;
    if (this.kind === REQUEST) this.method = METHOD_NAMES[llhttp.llhttp_get_method(ptr)] as string;
    else this.statusCode = llhttp.llhttp_get_status_code(ptr);
    this.versionMajor = llhttp.llhttp_get_http_major(ptr);
    this.versionMinor = llhttp.llhttp_get_http_minor(ptr);
    this.upgrade = llhttp.llhttp_get_upgrade(ptr) === 1;
    this.keepAlive = llhttp.llhttp_should_keep_alive(ptr) === 1;
    return this.sink.onHead(this);
  }
}

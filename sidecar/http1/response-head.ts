/**
 * The response head for the client, written straight into the buffer that carries it (with the
 * first body piece, when there is one) instead of built as a string: concatenating the head
 * header by header made a string per piece, a copy to flatten them, and a lower-cased copy of
 * every mixed-case name, about 1.4 KB of heap per response. Hop-by-hop headers (and those the
 * app's Connection names) and the app's X-Request-Id are dropped; X-Request-Id, the framing and
 * Connection are the sidecar's.
 */
import { Buffer } from 'node:buffer';
import { fieldsOf, isHopByHopField, joinedFieldValues, type HeaderFields } from './head-fields.js';
import { writeLatin1 } from './latin1.js';
import { connectionTokensOf, type ResponseFraming } from './heads.js';

const CRLF = 0x0d0a;

export class ClientResponseHead {
  private readonly named: Set<string> | undefined;
  /** The app's fields as received: the parser's (valid until it parses the next response), or a flat list. */
  private readonly fields: HeaderFields;
  /** Fields of the head: trailers the parser adds to its fields later are not the head's. */
  private readonly count: number;
  /** Bytes of the head, final CRLF included. */
  readonly length: number;

  constructor(
    private readonly statusCode: number,
    private readonly statusText: string,
    headers: readonly string[] | HeaderFields,
    private readonly requestId: string,
    private readonly framing: ResponseFraming,
    /** Connection header to add: 'close', 'keep-alive' (HTTP/1.0 client) or none. */
    private readonly connection: '' | 'close' | 'keep-alive',
  ) {
    const fields = fieldsOf(headers);
    this.fields = fields;
    this.count = fields.count;
    this.named = connectionTokensOf(joinedFieldValues(fields, 'connection'));
    let length = 13 + statusText.length + 2; // "HTTP/1.1 NNN " text CRLF
    for (let index = 0; index < this.count; index += 1) {
      if (this.kept(index)) length += fields.nameLength(index) + fields.valueLength(index) + 4;
    }
    length += 16 + requestId.length; // "x-request-id: " id CRLF
    if (framing === 'chunked') length += 28; // "transfer-encoding: chunked" CRLF
    if (connection !== '') length += 14 + connection.length;
    this.length = length + 2;
  }

  private kept(index: number): boolean {
    const fields = this.fields;
    if (isHopByHopField(fields, index) || fields.isNamed(index, 'x-request-id') || (this.named !== undefined && this.named.has(fields.name(index).toLowerCase()))) return false;
    return this.framing === 'length' || !fields.isNamed(index, 'content-length');
  }

  /** The head in a buffer of its own, followed by `tail` when given. */
  toBuffer(tail: Buffer | null = null): Buffer {
    const out = Buffer.allocUnsafe(this.length + (tail?.length ?? 0));
    const at = this.writeInto(out, 0);
    tail?.copy(out, at);
    return out;
  }

  /** Writes the head at `at`; returns where it ends. */
  writeInto(out: Buffer, at: number): number {
    at = writeLatin1(out, at, 'HTTP/1.1 ');
    const status = this.statusCode; // 100–599, checked by the exchange
    out[at++] = 0x30 + Math.floor(status / 100);
    out[at++] = 0x30 + (Math.floor(status / 10) % 10);
    out[at++] = 0x30 + (status % 10);
    out[at++] = 0x20;
    at = line(out, at, this.statusText);
    const fields = this.fields;
    for (let index = 0; index < this.count; index += 1) {
      if (!this.kept(index)) continue;
      at = fields.writeName(index, out, at);
      out[at++] = 0x3a;
      out[at++] = 0x20;
      at = fields.writeValue(index, out, at);
      out.writeUInt16BE(CRLF, at);
      at += 2;
    }
    at = field(out, at, 'x-request-id', this.requestId);
    if (this.framing === 'chunked') at = field(out, at, 'transfer-encoding', 'chunked');
    if (this.connection !== '') at = field(out, at, 'connection', this.connection);
    out.writeUInt16BE(CRLF, at);
    return at + 2;
  }
}

function line(out: Buffer, at: number, value: string): number {
  at = writeLatin1(out, at, value);
  out.writeUInt16BE(CRLF, at);
  return at + 2;
}

function field(out: Buffer, at: number, name: string, value: string): number {
  at = writeLatin1(out, at, name);
  out[at++] = 0x3a;
  out[at++] = 0x20;
  return line(out, at, value);
}

/**
 * Heads written byte by byte into one scratch buffer shared by every head the process builds and
 * read out as one flat string or bytes (`beginHead`, `put`, `putField`, `headText`, `headBytes`).
 * Concatenating a head piece by piece made a string per piece and a copy to flatten them when
 * written: most of a kilobyte of heap per head.
 */
import { Buffer } from 'node:buffer';
import type { HeaderFields } from './head-fields.js';
import { writeLatin1 } from './latin1.js';

let scratch = Buffer.allocUnsafeSlow(8_192);
let used = 0;

export function beginHead(): void {
  used = 0;
}

/** Room for `length` more bytes. */
function reserve(length: number): void {
  if (used + length <= scratch.length) return;
  const bigger = Buffer.allocUnsafeSlow(Math.max(scratch.length * 2, used + length));
  scratch.copy(bigger, 0, 0, used);
  scratch = bigger;
}

export function put(text: string): void {
  reserve(text.length);
  used = writeLatin1(scratch, used, text);
}

/** Field `index` of `fields` as received: `name: value` and its CRLF. */
export function putFieldOf(fields: HeaderFields, index: number): void {
  reserve(fields.nameLength(index) + fields.valueLength(index) + 4);
  used = fields.writeName(index, scratch, used);
  scratch[used++] = 0x3a;
  scratch[used++] = 0x20;
  used = fields.writeValue(index, scratch, used);
  scratch[used++] = 0x0d;
  scratch[used++] = 0x0a;
}

/** `name: ` and the value of field `index`, with its CRLF. */
export function putNamedValueOf(name: string, fields: HeaderFields, index: number): void {
  put(name);
  put(': ');
  reserve(fields.valueLength(index) + 2);
  used = fields.writeValue(index, scratch, used);
  put('\r\n');
}

/** `name: value` and its CRLF. */
export function putField(name: string, value: string): void {
  put(name);
  put(': ');
  put(value);
  put('\r\n');
}

/** The head built since beginHead(), as one string. */
export function headText(): string {
  return scratch.toString('latin1', 0, used);
}

/** The head built since beginHead(), as bytes of its own (from Node's buffer pool: smaller than the string). */
export function headBytes(): Buffer {
  const out = Buffer.allocUnsafe(used);
  scratch.copy(out, 0, 0, used);
  return out;
}

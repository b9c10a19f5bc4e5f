/**
 * A message head's header fields read without a string per name and value. `HeadFields` (what the
 * parser fills) keeps a copy of the head's bytes as received, in a buffer the parser keeps, and
 * each field as a name range and a value range in it: the usual request and response are checked (a
 * few names looked up) and copied into the head sent on by native copies, without the ~16 small
 * strings and the array of a flat list, nor a string of the whole head (about 300 bytes of heap
 * per exchange for both heads). `list()` makes that flat list, once per head, for the
 * readers that want one (HTTP/2, interim and 101 heads). `FieldList` reads a flat list (an h2c
 * app's response, an HTTP/2 client's request) through the same interface.
 */
import { writeLatin1 } from './latin1.js';

export interface HeaderFields {
  /** Number of fields. */
  readonly count: number;
  name(index: number): string;
  value(index: number): string;
  nameLength(index: number): number;
  valueLength(index: number): number;
  /** Whether field `index` is named `lowerName` in any case, without a lower-cased copy. */
  isNamed(index: number, lowerName: string): boolean;
  /** Write the name or value as latin1 bytes at `at`; return where they end. */
  writeName(index: number, out: Uint8Array, at: number): number;
  writeValue(index: number, out: Uint8Array, at: number): number;
  /** The value as a whole number when it is 1 to 15 ASCII digits, else -1 (read in place: no string). */
  decimalValue(index: number): number;
}

/** Bytes `start` to `end` of `bytes` as a whole number when they are 1 to 15 ASCII digits, else -1. */
function decimalIn(bytes: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let number = 0;
  for (let offset = start; offset < end; offset += 1) {
    const digit = (bytes[offset] as number) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    number = number * 10 + digit;
  }
  return number;
}

/** `text` as a whole number when it is 1 to 15 ASCII digits, else -1. */
function decimalOf(text: string): number {
  if (text.length === 0 || text.length > 15) return -1;
  let number = 0;
  for (let offset = 0; offset < text.length; offset += 1) {
    const digit = text.charCodeAt(offset) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    number = number * 10 + digit;
  }
  return number;
}

/** Room for this many fields before the ranges grow (kept for the parser's life). */
const INITIAL_FIELDS = 24;
/** The head's bytes start in a buffer of this size, grown (and kept) when a head needs more. */
const INITIAL_BYTES = 512;
const NO_BYTES = Buffer.alloc(0);

export class HeadFields implements HeaderFields {
  /** The head's bytes as received (from its first piece to its last), read after read; ranges point into them. */
  private bytes: Buffer = NO_BYTES;
  private used = 0;
  /** [nameStart, nameEnd, valueStart, valueEnd] per field, offsets into `bytes`. */
  private ranges = new Int32Array(INITIAL_FIELDS * 4);
  count = 0;
  /** The last piece was a value, so a name piece starts a new field (else it continues a name). */
  private inValue = false;
  private listed: string[] | null = null;

  reset(): void {
    this.used = 0;
    this.count = 0;
    this.inValue = false;
    this.listed = null;
  }

  /** Copies bytes `from` to `to` of one read's chunk after the head's; returns what to add to that read's offsets. */
  appendBytes(chunk: Buffer, from: number, to: number): number {
    const base = this.used - from;
    this.reserve(to - from);
    this.used += chunk.copy(this.bytes, this.used, from, to);
    return base;
  }

  private reserve(length: number): void {
    const needed = this.used + length;
    if (needed <= this.bytes.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(INITIAL_BYTES, this.bytes.length * 2, needed));
    this.bytes.copy(bigger, 0, 0, this.used);
    this.bytes = bigger;
  }

  /** A name piece at [start, end) of the bytes: a new field, or the rest of a name split across reads. */
  addName(start: number, end: number): void {
    this.listed = null;
    const ranges = this.ranges;
    if (!this.inValue && this.count > 0) {
      const at = (this.count - 1) * 4;
      if (ranges[at + 1] === start) {
        ranges[at + 1] = end;
        ranges[at + 2] = end;
        ranges[at + 3] = end;
      } else {
        this.joinInto(at, start, end);
        ranges[at + 2] = ranges[at + 1] as number;
        ranges[at + 3] = ranges[at + 1] as number;
      }
      return;
    }
    this.inValue = false;
    let at = this.count * 4;
    if (at === ranges.length) {
      this.ranges = new Int32Array(at * 2);
      this.ranges.set(ranges);
    }
    const grown = this.ranges;
    grown[at] = start;
    grown[++at] = end;
    grown[++at] = end;
    grown[++at] = end;
    this.count += 1;
  }

  /** A value piece of the last field: its value, or the rest of one split across reads. */
  addValue(start: number, end: number): void {
    this.listed = null;
    this.inValue = true;
    const at = (this.count - 1) * 4 + 2;
    const ranges = this.ranges;
    if (ranges[at] === ranges[at + 1]) {
      ranges[at] = start;
      ranges[at + 1] = end;
    } else if (ranges[at + 1] === start) {
      ranges[at + 1] = end;
    } else {
      this.joinInto(at, start, end);
    }
  }

  /** Range `at` continued by bytes that do not follow it: both copied to the end of the bytes, joined. */
  private joinInto(at: number, start: number, end: number): void {
    const ranges = this.ranges;
    const first = ranges[at] as number;
    const firstEnd = ranges[at + 1] as number;
    this.reserve(firstEnd - first + end - start);
    const bytes = this.bytes;
    ranges[at] = this.used;
    this.used += bytes.copy(bytes, this.used, first, firstEnd);
    this.used += bytes.copy(bytes, this.used, start, end);
    ranges[at + 1] = this.used;
  }

  name(index: number): string {
    return this.bytes.toString('latin1', this.ranges[index * 4], this.ranges[index * 4 + 1]);
  }

  value(index: number): string {
    return this.bytes.toString('latin1', this.ranges[index * 4 + 2], this.ranges[index * 4 + 3]);
  }

  nameLength(index: number): number {
    return (this.ranges[index * 4 + 1] as number) - (this.ranges[index * 4] as number);
  }

  valueLength(index: number): number {
    return (this.ranges[index * 4 + 3] as number) - (this.ranges[index * 4 + 2] as number);
  }

  isNamed(index: number, lowerName: string): boolean {
    const start = this.ranges[index * 4] as number;
    if ((this.ranges[index * 4 + 1] as number) - start !== lowerName.length) return false;
    const bytes = this.bytes;
    for (let offset = 0; offset < lowerName.length; offset += 1) {
      const code = bytes[start + offset] as number;
      if ((code >= 0x41 && code <= 0x5a ? code | 0x20 : code) !== lowerName.charCodeAt(offset)) return false;
    }
    return true;
  }

  writeName(index: number, out: Uint8Array, at: number): number {
    return this.copy(this.ranges[index * 4] as number, this.ranges[index * 4 + 1] as number, out, at);
  }

  writeValue(index: number, out: Uint8Array, at: number): number {
    return this.copy(this.ranges[index * 4 + 2] as number, this.ranges[index * 4 + 3] as number, out, at);
  }

  decimalValue(index: number): number {
    return decimalIn(this.bytes, this.ranges[index * 4 + 2] as number, this.ranges[index * 4 + 3] as number);
  }

  private copy(start: number, end: number, out: Uint8Array, at: number): number {
    return at + this.bytes.copy(out, at, start, end);
  }

  /** The fields as a flat [name, value, ...] list, made once per head (do not change it). */
  list(): string[] {
    if (this.listed !== null) return this.listed;
    const list: string[] = [];
    for (let index = 0; index < this.count; index += 1) list.push(this.name(index), this.value(index));
    this.listed = list;
    return list;
  }
}

/** A flat [name, value, ...] list read as HeaderFields. */
export class FieldList implements HeaderFields {
  readonly count: number;

  constructor(private readonly list: readonly string[]) {
    this.count = list.length >> 1;
  }

  name(index: number): string {
    return this.list[index * 2] as string;
  }

  value(index: number): string {
    return this.list[index * 2 + 1] as string;
  }

  nameLength(index: number): number {
    return this.name(index).length;
  }

  valueLength(index: number): number {
    return this.value(index).length;
  }

  isNamed(index: number, lowerName: string): boolean {
    return isNamed(this.name(index), lowerName);
  }

  writeName(index: number, out: Uint8Array, at: number): number {
    return writeLatin1(out, at, this.name(index));
  }

  writeValue(index: number, out: Uint8Array, at: number): number {
    return writeLatin1(out, at, this.value(index));
  }

  decimalValue(index: number): number {
    return decimalOf(this.value(index));
  }
}

/** Either kind as HeaderFields. */
export function fieldsOf(headers: readonly string[] | HeaderFields): HeaderFields {
  return isList(headers) ? new FieldList(headers) : headers;
}

function isList(headers: readonly string[] | HeaderFields): headers is readonly string[] {
  return Array.isArray(headers);
}

/** Whether `name` is `lowerName` in any case, without making a lower-cased copy. */
export function isNamed(name: string, lowerName: string): boolean {
  if (name.length !== lowerName.length) return false;
  if (name === lowerName) return true;
  for (let index = 0; index < name.length; index += 1) {
    const code = name.charCodeAt(index);
    if ((code >= 0x41 && code <= 0x5a ? code | 0x20 : code) !== lowerName.charCodeAt(index)) return false;
  }
  return true;
}

/** Whether field `index` is hop-by-hop (RFC 9110 §7.6.1: heads.ts's HOP_BY_HOP), by length first. */
export function isHopByHopField(fields: HeaderFields, index: number): boolean {
  switch (fields.nameLength(index)) {
    case 2: return fields.isNamed(index, 'te');
    case 7: return fields.isNamed(index, 'trailer') || fields.isNamed(index, 'upgrade');
    case 10: return fields.isNamed(index, 'connection') || fields.isNamed(index, 'keep-alive');
    case 16: return fields.isNamed(index, 'proxy-connection');
    case 17: return fields.isNamed(index, 'transfer-encoding');
    case 18: return fields.isNamed(index, 'proxy-authenticate');
    case 19: return fields.isNamed(index, 'proxy-authorization');
    default: return false;
  }
}

/** The value of the first field named `lowerName`. */
export function fieldValue(fields: HeaderFields, lowerName: string): string | undefined {
  for (let index = 0; index < fields.count; index += 1) if (fields.isNamed(index, lowerName)) return fields.value(index);
  return undefined;
}

/** The index of the first field named `lowerName`, or -1. */
export function fieldIndex(fields: HeaderFields, lowerName: string): number {
  for (let index = 0; index < fields.count; index += 1) if (fields.isNamed(index, lowerName)) return index;
  return -1;
}

/** How many fields are named `lowerName`. */
export function fieldCount(fields: HeaderFields, lowerName: string): number {
  let count = 0;
  for (let index = 0; index < fields.count; index += 1) if (fields.isNamed(index, lowerName)) count += 1;
  return count;
}

/** Every value of `lowerName` joined with ", " (a list header sent as several lines). */
export function joinedFieldValues(fields: HeaderFields, lowerName: string): string | undefined {
  let joined: string | undefined;
  for (let index = 0; index < fields.count; index += 1) {
    if (!fields.isNamed(index, lowerName)) continue;
    const value = fields.value(index);
    joined = joined === undefined ? value : `${joined}, ${value}`;
  }
  return joined;
}

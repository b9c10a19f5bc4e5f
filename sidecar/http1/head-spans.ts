/**
 * The pieces of a message head (target, status text, field names and values) recorded as offsets
 * into the chunk being parsed, and taken with one copy per head (or per read of a head split across
 * reads) instead of one per piece: the target and status text become strings, the fields ranges
 * into the head's copied bytes (head-fields.ts).
 */
import type { HeadFields } from './head-fields.js';

export const SPAN_TARGET = 0;
export const SPAN_STATUS = 1;
export const SPAN_FIELD = 2;
export const SPAN_VALUE = 3;

/** Where the pieces go: the parser's head. */
export interface HeadText {
  target: string;
  statusText: string;
  readonly fields: HeadFields;
}

/** Room for a head of this many pieces before the spans array grows (kept for the parser's life). */
const INITIAL_PIECES = 32;

export class HeadSpans {
  /** [kind, start, length, kind, start, length, ...], in the order llhttp reported them. */
  private spans = new Int32Array(INITIAL_PIECES * 3);
  private used = 0;

  get pending(): boolean {
    return this.used > 0;
  }

  add(kind: number, start: number, length: number): void {
    let spans = this.spans;
    const used = this.used;
    if (used === spans.length) {
      spans = new Int32Array(used * 2);
      spans.set(this.spans);
      this.spans = spans;
    }
    spans[used] = kind;
    spans[used + 1] = start;
    spans[used + 2] = length;
    this.used = used + 3;
  }

  /** Appends every recorded piece to `head`, decoded from `chunk`, and forgets them. */
  flushInto(head: HeadText, chunk: Buffer): void {
    const spans = this.spans;
    const used = this.used;
    const fields = head.fields;
    const base = fields.appendBytes(chunk, spans[1] as number, (spans[used - 2] as number) + (spans[used - 1] as number));
    for (let index = 0; index < used; index += 3) {
      const start = spans[index + 1] as number;
      const end = start + (spans[index + 2] as number);
      switch (spans[index]) {
        case SPAN_TARGET:
          head.target += chunk.toString('latin1', start, end);
          break;
        case SPAN_STATUS:
          head.statusText += statusText(chunk, start, end);
          break;
        case SPAN_FIELD:
          fields.addName(base + start, base + end);
          break;
        default:
          fields.addValue(base + start, base + end);
      }
    }
    this.used = 0;
  }
}

/** A response's status text; the usual `OK` without making a string. */
function statusText(chunk: Buffer, start: number, end: number): string {
  if (end - start === 2 && chunk[start] === 0x4f && chunk[start + 1] === 0x4b) return 'OK';
  return chunk.toString('latin1', start, end);
}

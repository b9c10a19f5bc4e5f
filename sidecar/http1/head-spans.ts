/**
 * The pieces of a message head (target, status text, field names and values) recorded as offsets
 * into the chunk being parsed, and turned into strings with one decode of the bytes they span and
 * substrings of it: one call into Node per head (or per read of a head split across reads)
 * instead of one per piece.
 */

export const SPAN_TARGET = 0;
export const SPAN_STATUS = 1;
export const SPAN_FIELD = 2;
export const SPAN_VALUE = 3;

/** Where the pieces go: the parser's head fields. */
export interface HeadText {
  target: string;
  statusText: string;
  /** Raw header list as received: [name, value, name, value, ...]. */
  headers: string[];
  /** The last piece was a value, so a field piece starts a new header (else it continues a name). */
  inValue: boolean;
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
    const from = spans[1] as number;
    const text = chunk.toString('latin1', from, (spans[used - 2] as number) + (spans[used - 1] as number));
    for (let index = 0; index < used; index += 3) {
      const start = (spans[index + 1] as number) - from;
      appendPiece(head, spans[index] as number, text.slice(start, start + (spans[index + 2] as number)));
    }
    this.used = 0;
  }
}

/** A piece of a head: llhttp reports a piece split across reads as several, in order. */
function appendPiece(head: HeadText, kind: number, text: string): void {
  const headers = head.headers;
  switch (kind) {
    case SPAN_TARGET:
      head.target += text;
      return;
    case SPAN_STATUS:
      head.statusText += text;
      return;
    case SPAN_FIELD:
      if (head.inValue || headers.length === 0) {
        headers.push(text, '');
        head.inValue = false;
      } else {
        headers[headers.length - 2] += text;
      }
      return;
    default:
      headers[headers.length - 1] += text;
      head.inValue = true;
  }
}

/**
 * Heads written byte by byte: into a caller's buffer (`writeLatin1`), or into one scratch buffer
 * shared by every head the process builds and read out as one flat string (`beginHead`, `put`,
 * `putField`, `headText`). Concatenating a head piece by piece made a string per piece and a copy
 * to flatten them when written: most of a kilobyte of heap per head.
 */

/** Writes `text` (latin1: every code unit below 256) at `at`; returns where it ends. */
export function writeLatin1(out: Uint8Array, at: number, text: string): number {
  for (let index = 0; index < text.length; index += 1) out[at + index] = text.charCodeAt(index);
  return at + text.length;
}

let scratch = Buffer.allocUnsafeSlow(8_192);
let used = 0;

export function beginHead(): void {
  used = 0;
}

export function put(text: string): void {
  if (used + text.length > scratch.length) {
    const bigger = Buffer.allocUnsafeSlow(Math.max(scratch.length * 2, used + text.length));
    scratch.copy(bigger, 0, 0, used);
    scratch = bigger;
  }
  used = writeLatin1(scratch, used, text);
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

/** Writes `text` (latin1: every code unit below 256) at `at`; returns where it ends. */
export function writeLatin1(out: Uint8Array, at: number, text: string): number {
  for (let index = 0; index < text.length; index += 1) out[at + index] = text.charCodeAt(index);
  return at + text.length;
}

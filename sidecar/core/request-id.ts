/**
 * Generated request ids: random (version 4) UUIDs, as `crypto.randomUUID()` makes them, from the
 * same kind of entropy (a batch of cryptographically random bytes, refilled as it runs out), but
 * written into one scratch buffer and read out as one string: randomUUID() builds each id from
 * about twenty concatenated pieces, about 0.6 KB of heap per id.
 */
import { randomFillSync } from 'node:crypto';

const IDS_PER_BATCH = 256;
const random = Buffer.allocUnsafeSlow(16 * IDS_PER_BATCH);
let nextId = IDS_PER_BATCH;
const text = Buffer.allocUnsafeSlow(36);
const HEX = Buffer.from('0123456789abcdef', 'latin1');

export function newRequestId(): string {
  if (nextId === IDS_PER_BATCH) {
    randomFillSync(random);
    nextId = 0;
  }
  const from = nextId * 16;
  nextId += 1;
  let out = 0;
  for (let index = 0; index < 16; index += 1) {
    if (out === 8 || out === 13 || out === 18 || out === 23) text[out++] = 0x2d;
    let byte = random[from + index] as number;
    if (index === 6) byte = (byte & 0x0f) | 0x40; // version 4
    else if (index === 8) byte = (byte & 0x3f) | 0x80; // RFC 9562 variant
    text[out++] = HEX[byte >> 4] as number;
    text[out++] = HEX[byte & 0x0f] as number;
  }
  return text.toString('latin1', 0, 36);
}

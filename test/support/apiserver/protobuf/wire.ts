/** Protocol-buffers wire format: varints, tags and length-delimited fields (all Kubernetes messages need). */

export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

export class Reader {
  private offset = 0;
  constructor(private readonly buffer: Buffer) {}

  done(): boolean {
    return this.offset >= this.buffer.length;
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.offset >= this.buffer.length) throw new Error('truncated varint');
      const byte = this.buffer[this.offset++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
  }

  bytes(): Buffer {
    const length = Number(this.varint());
    if (this.offset + length > this.buffer.length) throw new Error('truncated length-delimited field');
    const slice = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }

  tag(): { field: number; wire: number } {
    const key = Number(this.varint());
    return { field: key >>> 3, wire: key & 7 };
  }

  skip(wire: number): void {
    if (wire === WIRE.varint) this.varint();
    else if (wire === WIRE.bytes) this.bytes();
    else if (wire === WIRE.fixed64) this.offset += 8;
    else if (wire === WIRE.fixed32) this.offset += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

/** A signed 64-bit value as its varint (negative numbers take ten bytes, two's complement). */
export function varint(value: bigint | number): Buffer {
  let rest = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    bytes.push(rest === 0n ? low : low | 0x80);
  } while (rest !== 0n);
  return Buffer.from(bytes);
}

/** Reads a varint as a signed int64 (as Go's int32/int64 fields are written). */
export const signed = (value: bigint): number => Number(BigInt.asIntN(64, value));

export const tag = (field: number, wire: number): Buffer => varint((field << 3) | wire);
export const lengthDelimited = (field: number, payload: Buffer): Buffer => Buffer.concat([tag(field, WIRE.bytes), varint(payload.length), payload]);

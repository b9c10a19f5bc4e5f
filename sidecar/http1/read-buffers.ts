/**
 * Where upstream sockets read: the process's one reused buffer (nothing read is kept past the read),
 * or, for a large counted body, a buffer of its own that the exchange writes to the client as is.
 */

/** Node's own read size. */
const READ_SIZE = 65_536;
const READ_BUFFER = Buffer.allocUnsafe(READ_SIZE);
/** With at least this much of a counted body still to come, the next read gets a buffer of its own: no copy of large bodies. */
const OWN_READ_MIN = 16_384;

/** The buffer for the next read, with `bodyLeft` bytes of a counted body still to come. */
export function readBufferFor(bodyLeft: number): Buffer {
  return bodyLeft >= OWN_READ_MIN ? Buffer.allocUnsafe(Math.min(READ_SIZE, bodyLeft)) : READ_BUFFER;
}

/** Whether `buffer` is the shared one (a view into it is valid only during its read callback). */
export function isSharedReadBuffer(buffer: Uint8Array): boolean {
  return buffer === READ_BUFFER;
}

/** One piece of a chunked body (RFC 9112 §7.1): size line, bytes and CRLF in one corked write. */
import type { Socket } from 'node:net';

const CRLF = Buffer.from('\r\n', 'latin1');

/** Writes `piece` as one chunk; false when the socket asks the writer to wait for 'drain'. */
export function writeChunk(socket: Socket, piece: Buffer): boolean {
  socket.cork();
  socket.write(`${piece.length.toString(16)}\r\n`, 'latin1');
  socket.write(piece);
  const more = socket.write(CRLF);
  socket.uncork();
  return more;
}

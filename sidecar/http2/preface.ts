/**
 * Tells HTTP/2 with prior knowledge (h2c) from HTTP/1.1 on one port by the connection preface
 * (RFC 9113 §3.4): the first bytes are read, compared, and put back into the socket for whichever
 * side takes it. No HTTP/1.1 request starts with the preface, so one differing byte decides.
 */
import type { Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export type Protocol = 'http1' | 'h2c';

export interface SniffOwner {
  /** The socket, paused, with the bytes read so far put back; `expired` when none decided in time. */
  decided(socket: Socket, protocol: Protocol, expired: boolean): void;
  /** The client left before it said which protocol it speaks. */
  abandoned(socket: Socket): void;
}

/** Whether `bytes` are the preface or a beginning of it; undefined while still undecided. */
export function prefaceVerdict(bytes: Buffer): Protocol | undefined {
  const length = Math.min(bytes.length, PREFACE.length);
  if (PREFACE.compare(bytes, 0, length, 0, length) !== 0) return 'http1';
  return length === PREFACE.length ? 'h2c' : undefined;
}

/**
 * Reads until the protocol is known. A client that sends nothing (or a part of the preface only)
 * is handed over as HTTP/1.1 when `timeoutMs` expires, so the HTTP/1.1 head timeout answers it.
 */
export function sniffProtocol(socket: Socket, owner: SniffOwner, timeoutMs: number): void {
  let seen: Buffer | null = null;
  const finish = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onGone);
    socket.off('close', onGone);
    socket.pause();
    if (seen !== null) socket.unshift(seen);
  };
  const onData = (chunk: Buffer): void => {
    seen = seen === null ? chunk : Buffer.concat([seen, chunk]);
    const verdict = prefaceVerdict(seen);
    if (verdict === undefined) return;
    finish();
    owner.decided(socket, verdict, false);
  };
  const onGone = (): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.destroy();
    owner.abandoned(socket);
  };
  const timer = setTimeout(() => {
    finish();
    owner.decided(socket, 'http1', true);
  }, timeoutMs);
  timer.unref();
  socket.on('data', onData);
  socket.once('end', onGone);
  socket.once('close', onGone);
  socket.on('error', ignore);
}

const ignore = (): void => undefined;

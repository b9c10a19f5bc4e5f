/** A connection's socket event handlers, attached together and detached together (a tunnel hand-over). */
import type { Socket } from 'node:net';

type Handler = (() => void) | ((chunk: Buffer) => void) | ((error: Error) => void);
export type SocketHandlers = Readonly<Partial<Record<'connect' | 'data' | 'end' | 'error' | 'close' | 'drain', Handler>>>;

export function attach(socket: Socket, handlers: SocketHandlers): void {
  for (const [event, handler] of Object.entries(handlers)) socket.on(event, handler);
}

export function detach(socket: Socket, handlers: SocketHandlers): void {
  for (const [event, handler] of Object.entries(handlers)) socket.off(event, handler);
}

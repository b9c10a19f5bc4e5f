/** A request waiting in the limiter's queue; allocated only when the app is at its limit. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Permit, Waiter } from './limiter.js';

/** What a queued request needs from the proxy that owns it. */
export interface QueueHost {
  forward(req: IncomingMessage, res: ServerResponse, requestId: string, permit: Permit): void;
  shedQueued(req: IncomingMessage, res: ServerResponse, requestId: string): void;
  exchangeDone(): void;
}

export class QueuedRequest implements Waiter {
  constructor(
    private readonly host: QueueHost,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly requestId: string,
  ) {}

  granted(permit: Permit): void {
    if (this.req.socket.destroyed) {
      // The client left while waiting: nothing to forward, and the slot goes to the next in line.
      permit.release();
      this.host.exchangeDone();
      return;
    }
    this.host.forward(this.req, this.res, this.requestId, permit);
  }

  shed(): void {
    if (this.req.socket.destroyed) this.host.exchangeDone();
    else this.host.shedQueued(this.req, this.res, this.requestId);
  }
}

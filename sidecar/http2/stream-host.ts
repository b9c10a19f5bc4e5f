/** What an HTTP/2 stream's exchange needs from the proxy that accepted its connection. */
import type { AccessLogSampler } from '../access-log-sampler.js';
import type { ClientConnectionErrorKind } from '../contracts.js';
import type { OutcomeRecorder } from '../core/exchange-end.js';
import type { RouteState } from '../http1/route-state.js';
import type { ConcurrencyLimiter } from '../overload/limiter.js';
import type { AppCall, AppCallOwner, AppRequest } from './app-call.js';

export interface StreamHost extends OutcomeRecorder {
  readonly fastFailureLog: AccessLogSampler;
  readonly limiter: ConcurrencyLimiter;
  /** host[:port] of the app, the authority of requests that came without one. */
  readonly upstreamAuthority: string;
  routeState(): RouteState;
  isDraining(): boolean;
  /** +1 when a stream is queued or forwarded, -1 when it ends: what a drain waits for. */
  busyChanged(change: 1 | -1): void;
  clientError(kind: ClientConnectionErrorKind, detail: object): void;
  /** A call to the app in the protocol it speaks (--app-protocol). */
  appCall(owner: AppCallOwner, request: AppRequest, state: RouteState): AppCall;
}

/** An in-memory SidecarMetrics, so tests can assert what the data path reported. */
import type { ShedCause } from '../../sidecar/overload/limiter.js';
import type { CircuitState, ClientConnectionErrorKind, OverloadGauges, Reason, SidecarMetrics } from '../../sidecar/contracts.js';

export class RecordingMetrics implements SidecarMetrics {
  readonly requests: { code: number; reason: Reason | '' }[] = [];
  readonly http2Requests: { kind: 'grpc' | 'http'; grpcStatus: string }[] = [];
  readonly transitions: CircuitState[] = [];
  readonly durations: number[] = [];
  state: CircuitState = 'closed';
  shadowTrips = 0;
  reusedSocketFailures = 0;
  reloads: ('success' | 'error')[] = [];
  accessLogSkips: Reason[] = [];
  readonly clientConnectionErrors: ClientConnectionErrorKind[] = [];
  readonly sheds: ('enforce' | 'shadow')[] = [];
  readonly shedCauses: ShedCause[] = [];
  readonly queueWaits: number[] = [];
  overload: () => OverloadGauges = () => ({ limit: 0, inFlight: 0, queued: 0, queue: { standingSeconds: 0, lifoSwitches: 0 } });

  request(code: number, reason: Reason | ''): void {
    this.requests.push({ code, reason });
  }
  upstreamDuration(seconds: number): void {
    this.durations.push(seconds);
  }
  circuitState(state: CircuitState): void {
    this.state = state;
  }
  circuitTransition(to: CircuitState): void {
    this.transitions.push(to);
  }
  http2Request(kind: 'grpc' | 'http', grpcStatus: string): void {
    this.http2Requests.push({ kind, grpcStatus });
  }
  shadowTrip(): void {
    this.shadowTrips += 1;
  }
  reusedSocketFailure(): void {
    this.reusedSocketFailures += 1;
  }
  clientConnectionError(kind: ClientConnectionErrorKind): void {
    this.clientConnectionErrors.push(kind);
  }
  configReload(result: 'success' | 'error'): void {
    this.reloads.push(result);
  }
  accessLogSkipped(reason: Reason): void {
    this.accessLogSkips.push(reason);
  }
  overloadShed(mode: 'enforce' | 'shadow', cause: ShedCause): void {
    this.sheds.push(mode);
    this.shedCauses.push(cause);
  }
  overloadQueueWait(seconds: number): void {
    this.queueWaits.push(seconds);
  }
  overloadGauges(read: () => OverloadGauges): void {
    this.overload = read;
  }
}

/**
 * The adaptive concurrency limit: a pure controller fed by round-trip samples, after Envoy's
 * adaptive concurrency filter (gradient = minRTT / sampled RTT, periodic minRTT re-measurement at a
 * pinned low concurrency) with Netflix Gradient2's smoothing and "app-limited" guard.
 *
 * No timers and no clock of its own: every call carries `now`, so tests drive it with synthetic
 * samples, and updates happen lazily when a sample arrives after the update interval.
 */

export interface GradientSettings {
  /** Floor of the limit; also the concurrency while minRTT is re-measured. */
  readonly minLimit: number;
  readonly maxLimit: number;
  /** Limit before the first update. */
  readonly initialLimit: number;
  /** Weight of a new limit against the old one, 0 < smoothing ≤ 1. */
  readonly smoothing: number;
  /** How often the sampled RTT is aggregated into a new limit. */
  readonly updateIntervalMs: number;
  /** How often minRTT is measured again (the first measurement happens at once). */
  readonly minRttIntervalMs: number;
  /** Samples (of requests started during the measurement) that make a minRTT. */
  readonly minRttSamples: number;
  /** Latency above minRTT still taken as "not queueing": the gradient uses minRTT × (1 + buffer). */
  readonly rttBuffer: number;
  /** ± fraction of randomness on minRttIntervalMs, so a fleet of sidecars does not pin down together. */
  readonly jitter: number;
}

/** Envoy's defaults where it has one (update interval, buffer, jitter, min limit); Gradient2's smoothing. */
export const DEFAULT_GRADIENT_SETTINGS: GradientSettings = Object.freeze({
  minLimit: 3,
  maxLimit: 1000,
  initialLimit: 10,
  smoothing: 0.2,
  updateIntervalMs: 100,
  minRttIntervalMs: 60_000,
  minRttSamples: 25,
  rttBuffer: 0.25,
  jitter: 0.1,
});

/** Largest number of samples aggregated per update; later ones in the same interval are dropped. */
const MAX_WINDOW_SAMPLES = 2048;
const MIN_GRADIENT = 0.5;
const MAX_GRADIENT = 2;

export type GradientPhase = 'measuring-min-rtt' | 'steady';

export interface GradientSnapshot {
  readonly limit: number;
  readonly phase: GradientPhase;
  /** Milliseconds; undefined until the first measurement completes. */
  readonly minRttMs: number | undefined;
  /** The last aggregated (median) RTT in milliseconds. */
  readonly sampleRttMs: number | undefined;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  return values[Math.floor((values.length - 1) / 2)] as number;
}

export class GradientController {
  private limitValue: number;
  /** The limit to return to after a minRTT measurement. */
  private limitBeforeMeasuring: number;
  private phase: GradientPhase = 'measuring-min-rtt';
  private phaseStartedAt: number;
  private minRttMs: number | undefined;
  private sampleRttMs: number | undefined;
  private nextMeasurementAt = Infinity;
  private windowStartedAt: number;
  private readonly window: number[] = [];
  /** Highest in-flight count seen with a sample of this window. */
  private windowMaxInFlight = 0;

  constructor(
    private readonly settings: GradientSettings,
    now: number,
    private readonly random: () => number = Math.random,
  ) {
    this.limitValue = clamp(settings.initialLimit, settings.minLimit, settings.maxLimit);
    this.limitBeforeMeasuring = this.limitValue;
    this.phaseStartedAt = now;
    this.windowStartedAt = now;
  }

  /** Requests that may be in flight now. */
  limit(): number {
    return this.phase === 'measuring-min-rtt' ? this.settings.minLimit : Math.floor(this.limitValue);
  }

  snapshot(): GradientSnapshot {
    return { limit: this.limit(), phase: this.phase, minRttMs: this.minRttMs, sampleRttMs: this.sampleRttMs };
  }

  /**
   * One finished request: when it was sent upstream, when its response head arrived (both ms on
   * the same clock), and how many requests were in flight when it was sent.
   */
  sample(startedAt: number, now: number, inFlight: number): void {
    const rtt = now - startedAt;
    if (this.phase === 'measuring-min-rtt') {
      // Only requests sent after the pin-down, into an app with at most minLimit in flight, show minRTT.
      if (startedAt >= this.phaseStartedAt && inFlight <= this.settings.minLimit) this.window.push(rtt);
      if (this.window.length >= this.settings.minRttSamples) this.finishMeasurement(now);
      return;
    }
    if (now >= this.nextMeasurementAt) {
      this.startMeasurement(now);
      return;
    }
    if (this.window.length < MAX_WINDOW_SAMPLES) this.window.push(rtt);
    if (inFlight > this.windowMaxInFlight) this.windowMaxInFlight = inFlight;
    if (now - this.windowStartedAt >= this.settings.updateIntervalMs) this.update(now);
  }

  private update(now: number): void {
    const minRtt = this.minRttMs as number;
    const sampleRtt = median(this.window);
    this.sampleRttMs = sampleRtt;
    const gradient = clamp((minRtt * (1 + this.settings.rttBuffer)) / Math.max(sampleRtt, Number.EPSILON), MIN_GRADIENT, MAX_GRADIENT);
    const scaled = this.limitValue * gradient;
    // Gradient2's √limit headroom lets the app queue; here the sidecar's own queue (controlled
    // delay) does the queueing, so the headroom is given only while latency is within the buffer:
    // it speeds up the search for capacity, and the limit settles where latency is minRTT × (1 + buffer).
    let target = gradient >= 1 ? scaled + Math.sqrt(scaled) : scaled;
    // Gradient2's guard: a limit the traffic never came near says nothing about capacity, so do not grow it.
    if (target > this.limitValue && this.windowMaxInFlight < this.limitValue / 2) target = this.limitValue;
    const smoothed = (1 - this.settings.smoothing) * this.limitValue + this.settings.smoothing * target;
    this.limitValue = clamp(smoothed, this.settings.minLimit, this.settings.maxLimit);
    this.resetWindow(now);
  }

  private startMeasurement(now: number): void {
    this.limitBeforeMeasuring = this.limitValue;
    this.phase = 'measuring-min-rtt';
    this.phaseStartedAt = now;
    this.resetWindow(now);
  }

  private finishMeasurement(now: number): void {
    this.minRttMs = median(this.window);
    this.phase = 'steady';
    this.limitValue = this.limitBeforeMeasuring;
    const jitter = 1 + this.settings.jitter * (2 * this.random() - 1);
    this.nextMeasurementAt = now + this.settings.minRttIntervalMs * jitter;
    this.resetWindow(now);
  }

  private resetWindow(now: number): void {
    this.window.length = 0;
    this.windowMaxInFlight = 0;
    this.windowStartedAt = now;
  }
}

/**
 * The sidecar's own scheduling delay: how late a short timer runs. A response that arrives while
 * the event loop is busy (our own work, or the process waiting for a CPU) is read as late as such a
 * timer fires, so the limiter takes this delay out of its latency samples and measures the app,
 * not itself. The median lateness over the last window is the estimate (a few long stalls must not
 * make every sample look instant, as the mean would); the timer is unref'd, and runs only while
 * requests are in flight and for a second after (an idle sidecar in a large fleet stays asleep).
 */

export interface SchedulingDelaySource {
  /** Median lateness (ms) over the last completed window; 0 before the first. */
  estimateMs(): number;
  /** Runs (again) if it is not running; cheap to call per request. */
  start(): void;
  stop(): void;
}

const PERIOD_MS = 5;

function median(values: number[]): number {
  values.sort((a, b) => a - b);
  return values[Math.floor((values.length - 1) / 2)] as number;
}
const WINDOW_MS = 100;
/** Without a request in flight this long, the timer stops. */
const IDLE_STOP_MS = 1_000;

export class TimerLateness implements SchedulingDelaySource {
  private timer: NodeJS.Timeout | undefined;
  private dueAt = 0;
  private windowStartedAt = 0;
  private readonly window: number[] = [];
  private estimate = 0;
  private lastActiveAt = 0;

  /** `active`: whether requests are in flight (the limiter's count). */
  constructor(private readonly active: () => boolean) {}

  estimateMs(): number {
    return this.estimate;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.windowStartedAt = performance.now();
    this.lastActiveAt = this.windowStartedAt;
    this.window.length = 0;
    this.schedule();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.estimate = 0;
  }

  private schedule(): void {
    this.dueAt = performance.now() + PERIOD_MS;
    this.timer = setTimeout(this.onTimer, PERIOD_MS);
    this.timer.unref();
  }

  private readonly onTimer = (): void => {
    const now = performance.now();
    if (this.active()) this.lastActiveAt = now;
    else if (now - this.lastActiveAt >= IDLE_STOP_MS) {
      this.timer = undefined;
      this.stop();
      return;
    }
    // libuv counts from the loop's cached time, a little before dueAt was taken: never below 0.
    this.window.push(Math.max(0, now - this.dueAt));
    if (now - this.windowStartedAt >= WINDOW_MS) {
      this.estimate = median(this.window);
      this.window.length = 0;
      this.windowStartedAt = now;
    }
    this.schedule();
  };
}

/** No correction: for tests that feed the limiter synthetic timings. */
export const NO_SCHEDULING_DELAY: SchedulingDelaySource = Object.freeze({ estimateMs: () => 0, start: () => undefined, stop: () => undefined });

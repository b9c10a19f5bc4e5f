/**
 * A level-triggered work queue keyed by namespace/name: adding a key already waiting is a no-op,
 * a key being processed is re-run once after it finishes, at most `concurrency` keys run at once,
 * and failures retry with exponential backoff plus jitter.
 */
export interface WorkQueueOptions {
  concurrency: number;
  process(key: string): Promise<void>;
  baseDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  onError?(key: string, error: unknown, attempt: number): void;
}

export interface WorkQueue {
  add(key: string): void;
  depth(): number;
  /** Resolves when nothing is waiting, running or scheduled for retry. */
  idle(): Promise<void>;
  close(): void;
}

export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (exponential / 2) * random());
}

export function createWorkQueue(options: WorkQueueOptions): WorkQueue {
  const baseDelayMs = options.baseDelayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const random = options.random ?? Math.random;
  const waiting: string[] = [];
  const waitingSet = new Set<string>();
  const running = new Set<string>();
  const dirty = new Set<string>();
  const attempts = new Map<string, number>();
  const retryTimers = new Map<string, NodeJS.Timeout>();
  let idleWaiters: Array<() => void> = [];
  let closed = false;

  const isIdle = (): boolean => waiting.length === 0 && running.size === 0 && retryTimers.size === 0;
  const notifyIdle = (): void => {
    if (!isIdle()) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  };

  const enqueue = (key: string): void => {
    if (closed) return;
    if (running.has(key)) {
      dirty.add(key);
      return;
    }
    if (waitingSet.has(key)) return;
    waitingSet.add(key);
    waiting.push(key);
    pump();
  };

  const pump = (): void => {
    while (!closed && running.size < options.concurrency) {
      const index = waiting.findIndex((key) => !running.has(key));
      if (index < 0) break;
      const [key] = waiting.splice(index, 1) as [string];
      waitingSet.delete(key);
      running.add(key);
      void run(key);
    }
  };

  const run = async (key: string): Promise<void> => {
    try {
      await options.process(key);
      attempts.delete(key);
    } catch (error) {
      const attempt = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, attempt);
      options.onError?.(key, error, attempt);
      scheduleRetry(key, backoffDelay(attempt, baseDelayMs, maxDelayMs, random));
    } finally {
      running.delete(key);
      if (dirty.delete(key)) enqueue(key);
      pump();
      notifyIdle();
    }
  };

  const scheduleRetry = (key: string, delayMs: number): void => {
    if (closed || retryTimers.has(key)) return;
    const timer = setTimeout(() => {
      retryTimers.delete(key);
      enqueue(key);
      notifyIdle();
    }, delayMs);
    timer.unref();
    retryTimers.set(key, timer);
  };

  return {
    add: (key) => {
      const timer = retryTimers.get(key);
      if (timer !== undefined) {
        // A fresh event supersedes the pending retry, but keeps the attempt count for backoff.
        clearTimeout(timer);
        retryTimers.delete(key);
      }
      enqueue(key);
    },
    depth: () => waiting.length + retryTimers.size,
    idle: () => (isIdle() ? Promise.resolve() : new Promise((resolve) => idleWaiters.push(resolve))),
    close: () => {
      closed = true;
      for (const timer of retryTimers.values()) clearTimeout(timer);
      retryTimers.clear();
      waiting.length = 0;
      waitingSet.clear();
      dirty.clear();
      notifyIdle();
    },
  };
}

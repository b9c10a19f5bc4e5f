/**
 * Polls a sidecar's admin `/readyz` until it answers 200. Shared by the bench and by the image's
 * compile-cache warm-up (tools/ ships in the image, bench/ does not), so it uses node:http only.
 */
import { get } from 'node:http';

export interface ReadinessWait {
  timeoutMs?: number;
  pollMs?: number;
  /** Checked between polls: false ends the wait at once (the process being waited for exited). */
  stillRunning?: () => boolean;
}

/** A process that accepts and never answers (stopped, wedged) must not stall the wait past its deadline. */
const POLL_TIMEOUT_MS = 1_000;

function readyzAnswers200(adminPort: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get({ host: '127.0.0.1', port: adminPort, path: '/readyz', agent: false, timeout: POLL_TIMEOUT_MS }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode === 200));
      response.on('close', () => resolve(false)); // after 'end' this changes nothing
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}

/** Milliseconds from the call until `/readyz` answered 200; throws when the wait ends without it. */
export async function waitForReady(adminPort: number, { timeoutMs = 10_000, pollMs = 2, stillRunning = () => true }: ReadinessWait = {}): Promise<number> {
  const started = performance.now();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await readyzAnswers200(adminPort)) return performance.now() - started;
    if (!stillRunning()) throw new Error(`admin ${adminPort}: the process exited before it was ready`);
    if (Date.now() > deadline) throw new Error(`admin ${adminPort} not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

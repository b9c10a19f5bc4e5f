/** What `badgateway check` reports: one line per check, pass/fail/skip, with a hint for each failure. */
import type { KubeClients } from '../kube/clients.js';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  /** What is checked, e.g. "operator Deployment available". */
  name: string;
  status: CheckStatus;
  /** What was found. */
  message: string;
  /** For a failure: what to do about it. */
  hint?: string;
}

/** The operator as its Deployment says it runs (found by the chart's labels). */
export interface OperatorInstall {
  namespace: string;
  name: string;
  args: readonly string[];
}

export interface CheckContext {
  clients: KubeClients;
  now: () => Date;
}

export const pass = (name: string, message: string): CheckResult => ({ name, status: 'pass', message });
export const fail = (name: string, message: string, hint: string): CheckResult => ({ name, status: 'fail', message, hint });
export const skip = (name: string, message: string): CheckResult => ({ name, status: 'skip', message });

/** The first line of a Kubernetes API error: its Status message when there is one. */
export function describeError(error: unknown): string {
  const body = (error as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      const message = (JSON.parse(body) as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    } catch {
      // not JSON: fall through to the error's own message
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

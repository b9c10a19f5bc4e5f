/** Raw JSON requests to the control plane over HTTPS, trusting only its CA (the launcher's own needs). */
import { request } from 'node:https';

export interface ApiTarget {
  url: string;
  caPem: string;
  token: string;
}

export interface ApiAnswer {
  status: number;
  body: string;
}

export function apiRequest(target: ApiTarget, method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<ApiAnswer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(`${target.url}${path}`, {
      method,
      ca: target.caPem,
      headers: {
        authorization: `Bearer ${target.token}`,
        accept: 'application/json',
        ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
      },
      timeout: timeoutMs,
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Polls `check` until it returns a value, or throws `describe()` after `timeoutMs`; throws at once
 * with the reason `stopped()` gives, if it gives one (a check's own errors only mean "not yet").
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  describe: () => string,
  stopped: () => string | undefined = () => undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = stopped();
    if (reason !== undefined) throw new Error(reason);
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch {
      // not answering yet
    }
    if (Date.now() > deadline) throw new Error(describe());
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * API clients whose calls are sent again when kube-apiserver answers 429 (or a 5xx) with
 * Retry-After, after the seconds it asks for, up to 10 times: what client-go's REST client does
 * for kubectl. kube-apiserver answers so under API Priority and Fairness, and while a resource's
 * watch cache (re)initializes: right after a CRD is created or updated, lists of its objects are
 * refused for a moment with "storage is (re)initializing". A one-shot reader (`badgateway check`)
 * would otherwise report that moment as a failed check; the operator's own readers retry anyway.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { KubeClients } from './clients.js';
import { apiStatus } from './errors.js';

/** client-go's default. */
const MAX_RETRIES = 10;

/** The wait the API server asked for, when the answer is one client-go retries. */
function retryAfterMs(error: unknown): number | undefined {
  const status = apiStatus(error);
  if (status === undefined || (status !== 429 && (status < 500 || status > 599))) return undefined;
  const header = (error as { headers?: Record<string, string> }).headers?.['retry-after'];
  const seconds = header === undefined ? Number.NaN : Number(header);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function retrying<T extends object>(api: T): T {
  return new Proxy(api, {
    get(target, property, receiver) {
      const member = Reflect.get(target, property, receiver) as unknown;
      if (typeof member !== 'function') return member;
      return async (...args: unknown[]): Promise<unknown> => {
        for (let retries = 0; ; retries += 1) {
          try {
            return await (member as (...callArgs: unknown[]) => unknown).apply(target, args);
          } catch (error) {
            const waitMs = retryAfterMs(error);
            if (waitMs === undefined || retries >= MAX_RETRIES) throw error;
            await delay(waitMs);
          }
        }
      };
    },
  });
}

/** The same clients, each API call retried as the API server's Retry-After says (informers are left as they are). */
export function retryAfterTooManyRequests(clients: KubeClients): KubeClients {
  return {
    ...clients,
    core: retrying(clients.core),
    apps: retrying(clients.apps),
    custom: retrying(clients.custom),
    coordination: retrying(clients.coordination),
    admission: retrying(clients.admission),
    apiextensions: retrying(clients.apiextensions),
    events: retrying(clients.events),
    version: retrying(clients.version),
    objects: retrying(clients.objects),
  };
}

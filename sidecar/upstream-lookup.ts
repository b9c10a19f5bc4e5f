/**
 * A named upstream that does not resolve is worth one warning at start: every request would get a
 * 502 `connect-failed` (Proxy-Status `dns_error`) until it resolves. The sidecar stays ready — its
 * answers are the well-formed 502s it exists for, where an unready pod would leave clients with
 * the Service's bare connection errors.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from '../api/logger.js';

export async function warnIfUnresolvable(upstream: URL, logger: Logger): Promise<void> {
  const host = upstream.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) !== 0) return;
  try {
    await lookup(host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    logger.warn({ upstream: upstream.origin, code }, `upstream host ${host} does not resolve (${code}): requests get 502 connect-failed with Proxy-Status dns_error until it does`);
  }
}

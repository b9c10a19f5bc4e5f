import { UsageError } from './usage-error.js';

/** "0.0.0.0:8502", "[::]:8502", ":8502" or "8502" → host and port. */
export function parseHostPort(flag: string, value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):?([0-9]{1,5})$/.exec(value.includes(':') ? value : `:${value}`);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(`${flag}: ${JSON.stringify(value)} is not HOST:PORT (e.g. 0.0.0.0:8502)`);
  }
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

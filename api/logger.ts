/**
 * Structured JSON logging (pino) shared by both roles. Code receives a `Logger`; only the CLI
 * creates one, so tests can pass a quiet or capturing logger.
 */
import { pino } from 'pino';

/** Minimal structured logger (a pino-compatible subset). */
export interface Logger {
  debug(object: object, message?: string): void;
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Keys never written to logs: headers and fields that may carry credentials. */
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'headers.authorization',
  'headers.cookie',
  '*.token',
  '*.password',
  '*.tls\\.key',
];

/** The stdout destinations of the loggers createLogger made, for settleLogs. */
const stdoutDestinations = new WeakMap<Logger, ReturnType<typeof pino.destination>>();

export function createLogger(options: { name: string; level?: LogLevel; destination?: NodeJS.WritableStream }): Logger {
  const destination = options.destination ?? pino.destination({ fd: 1, sync: false });
  const logger = pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      base: { component: options.name },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  if (options.destination === undefined) stdoutDestinations.set(logger, destination as ReturnType<typeof pino.destination>);
  return logger;
}

/**
 * Before process.exit: waits, at most `timeoutMs`, for the log lines written so far to reach
 * stdout. If stdout is a closed pipe (the write fails) or stuck (the wait times out), the rest is
 * dropped: on exit pino flushes synchronously, and sonic-boom retries a failed synchronous write
 * forever, so a closed pipe would otherwise keep the process from ever exiting.
 */
export function settleLogs(logger: Logger, timeoutMs = 1_000): Promise<void> {
  const destination = stdoutDestinations.get(logger);
  if (destination === undefined) return Promise.resolve();
  // sonic-boom has no public "pending" flag; without these fields the wait is simply bounded.
  const state = destination as unknown as { _writing?: unknown; _len?: unknown };
  if (state._writing === false && state._len === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const finish = (delivered: boolean): void => {
      clearTimeout(timer);
      destination.off('drain', onDrain);
      destination.off('error', onError);
      if (!delivered) destination.flushSync = () => undefined;
      resolve();
    };
    const onDrain = (): void => finish(true);
    const onError = (): void => finish(false);
    const timer = setTimeout(() => finish(false), timeoutMs);
    destination.once('drain', onDrain);
    destination.once('error', onError);
  });
}

/** A logger that drops everything, for tests and embedded use. */
export function silentLogger(): Logger {
  return createLogger({ name: 'silent', level: 'silent' });
}

/** A real pino logger whose JSON lines are parsed into an array, so tests can assert on logs. */
import { Writable } from 'node:stream';
import { createLogger, type Logger, type LogLevel } from '../../api/logger.js';

export function capturingLogger(name = 'test', level: LogLevel = 'info'): { lines: Record<string, unknown>[]; logger: Logger } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ name, level, destination }) };
}

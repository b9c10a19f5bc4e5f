/**
 * The control plane's child processes: each one's output goes to its own log file, a process that
 * exits on its own is reported with the end of its log, and stopping ends them all (newest first,
 * SIGTERM, then SIGKILL after a grace period).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Supervisor {
  start(name: string, command: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess;
  /** The last lines of a process's log, for error messages. */
  tail(name: string, lines?: number): string;
  stopAll(graceMs?: number): Promise<void>;
}

export function supervise(logDir: string, onUnexpectedExit: (name: string, code: number | null, tail: string) => void): Supervisor {
  const children: Array<{ name: string; child: ChildProcess }> = [];
  let stopping = false;
  const logFile = (name: string): string => join(logDir, `${name}.log`);
  const tail = (name: string, lines = 15): string => {
    try {
      return readFileSync(logFile(name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  return {
    start: (name, command, args, env = process.env) => {
      const fd = openSync(logFile(name), 'a');
      // detached: a Ctrl-C in the terminal reaches the launcher only, which stops the children in order.
      const child = spawn(command, args, { stdio: ['ignore', fd, fd], detached: true, env });
      closeSync(fd);
      child.on('exit', (code) => {
        if (!stopping) onUnexpectedExit(name, code, tail(name));
      });
      child.on('error', (error) => {
        if (!stopping) onUnexpectedExit(name, null, error.message);
      });
      children.push({ name, child });
      return child;
    },
    tail,
    stopAll: async (graceMs = 5000) => {
      stopping = true;
      for (const { child } of children.splice(0).reverse()) {
        if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) continue;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

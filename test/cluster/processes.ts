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
  /** Stops one process (SIGTERM, then SIGKILL after the grace period) and starts it again as it was started. */
  restart(name: string, graceMs?: number): Promise<void>;
  /** The last lines of a process's log, for error messages. */
  tail(name: string, lines?: number): string;
  stopAll(graceMs?: number): Promise<void>;
}

interface Supervised {
  name: string;
  child: ChildProcess;
  launch: { command: string; args: string[]; env: NodeJS.ProcessEnv };
  /** Set while restart() ends it on purpose: that exit is no failure. */
  restarting?: boolean;
}

async function terminate(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export function supervise(logDir: string, onUnexpectedExit: (name: string, code: number | null, tail: string) => void): Supervisor {
  const children: Supervised[] = [];
  let stopping = false;
  const logFile = (name: string): string => join(logDir, `${name}.log`);
  const tail = (name: string, lines = 15): string => {
    try {
      return readFileSync(logFile(name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  };
  const spawnSupervised = (entry: Omit<Supervised, 'child'>): ChildProcess => {
    const { name, launch } = entry;
    const fd = openSync(logFile(name), 'a');
    // detached: a Ctrl-C in the terminal reaches the launcher only, which stops the children in order.
    const child = spawn(launch.command, launch.args, { stdio: ['ignore', fd, fd], detached: true, env: launch.env });
    closeSync(fd);
    const expected = (): boolean => stopping || (entry as Supervised).restarting === true;
    child.on('exit', (code) => {
      if (!expected()) onUnexpectedExit(name, code, tail(name));
    });
    child.on('error', (error) => {
      if (!expected()) onUnexpectedExit(name, null, error.message);
    });
    return child;
  };
  return {
    start: (name, command, args, env = process.env) => {
      const entry = { name, launch: { command, args, env } } as Supervised;
      entry.child = spawnSupervised(entry);
      children.push(entry);
      return entry.child;
    },
    restart: async (name, graceMs = 5000) => {
      const entry = children.find((candidate) => candidate.name === name);
      if (entry === undefined) throw new Error(`no process named ${name}`);
      entry.restarting = true;
      await terminate(entry.child, graceMs);
      entry.restarting = false;
      entry.child = spawnSupervised(entry);
    },
    tail,
    stopAll: async (graceMs = 5000) => {
      stopping = true;
      for (const { child } of children.splice(0).reverse()) await terminate(child, graceMs);
    },
  };
}

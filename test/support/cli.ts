/** Runs the built `badgateway` CLI (dist/, built by `npm test`'s pretest step) as a real process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cliEntry = join(repoRoot, 'dist', 'cli', 'main.js');

function ensureBuilt(): void {
  if (!existsSync(cliEntry)) throw new Error(`${cliEntry} is missing: run \`npm run build\` first (npm test does)`);
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Collects a spawned process's output until it closes; SIGKILL after `timeoutMs`. */
export function completion(child: ChildProcess, timeoutMs: number): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (data) => { stdout += String(data); });
    child.stderr?.on('data', (data) => { stderr += String(data); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** Runs the CLI to completion. */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  ensureBuilt();
  const child = spawn(process.execPath, [cliEntry, ...args], { env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const result = completion(child, options.timeoutMs ?? 20_000);
  child.stdin.end(options.input ?? '');
  return result;
}

/** Starts a long-running CLI process; `lines` collects stdout lines (JSON logs). */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  ensureBuilt();
  const child = spawn(process.execPath, [cliEntry, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (data) => { output += String(data); });
  child.stderr?.on('data', (data) => { output += String(data); });
  const exited = new Promise<number | null>((resolvePromise) => child.on('exit', (code) => resolvePromise(code)));
  return { child, output: () => output, exited };
}

/** Polls until `check` passes or the deadline passes; `what` may be computed at failure time. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what: string | (() => string) = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`${typeof what === 'function' ? what() : what} not reached within ${timeoutMs} ms`);
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 25));
  }
}

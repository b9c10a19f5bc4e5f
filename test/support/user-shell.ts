/**
 * A user's shell as the README's promise has it: the machine's own Node first on the PATH. npm
 * puts `node_modules/.bin` (where the `node` devDependency's Node.js 24 lives) in front of every
 * script, `npm test` included; documented commands must work without that.
 */
import { spawn } from 'node:child_process';
import { delimiter } from 'node:path';
import { completion, type CliResult } from './cli.js';

export function userShellPath(path = process.env.PATH ?? ''): string {
  return path.split(delimiter).filter((entry) => !/[/\\]node_modules[/\\]\.bin$/.test(entry) && !/node-gyp-bin$/.test(entry)).join(delimiter);
}

/** The environment of a user's shell: this one without npm's additions (PATH, npm_* variables). */
export function userShellEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name) && name !== 'NODE_OPTIONS' && name !== 'INIT_CWD'));
  return { ...env, PATH: userShellPath(), ...extra };
}

/** Runs one command line in bash, as typed in a user's shell. */
export function runInUserShell(command: string, options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<CliResult> {
  const child = spawn('bash', ['-c', command], { cwd: options.cwd, env: userShellEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  return completion(child, options.timeoutMs ?? 60_000);
}

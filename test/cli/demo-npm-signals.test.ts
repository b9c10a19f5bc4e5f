/**
 * `npm run demo` is stopped by signals to npm's PID, as a terminal, a process manager or `kill`
 * sends them: npm forwards SIGINT and SIGTERM to its script, and the demo must be what receives
 * them (a shell between them would swallow SIGINT and leave the demo orphaned on SIGTERM). The
 * script runs from a copy of package.json's `demo` without its build step (the suite has built
 * dist/, and rebuilding it would race the other test files), in a user's shell.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { closedPort } from '../support/faulty-upstream.js';
import { eventually } from '../support/cli.js';
import { BUILD_STEP, demoScript, killGroups, npmDemoFolder } from '../support/npm-demo-folder.js';
import { userShellEnv } from '../support/user-shell.js';

const { folder, remove } = npmDemoFolder();
const groups: number[] = [];
afterAll(() => {
  killGroups(groups);
  remove();
});

const listening = (port: number) => new Promise<boolean>((resolve) => {
  const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true); });
  socket.on('error', () => resolve(false));
});

describe('npm run demo, signalled by npm\'s PID', () => {
  it('builds first, then runs the demo', () => {
    expect(demoScript.startsWith(BUILD_STEP)).toBe(true);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('%s stops npm and everything the demo started', async (signal) => {
    const ports = [await closedPort(), await closedPort(), await closedPort()];
    const npm = spawn('npm', ['run', 'demo', '--', '--port', String(ports[0]), '--admin-port', String(ports[1]), '--control-port', String(ports[2])], {
      cwd: folder, env: userShellEnv(), stdio: 'ignore', detached: true,
    });
    groups.push(npm.pid as number);
    let exited = false;
    npm.once('exit', () => { exited = true; });
    for (const port of ports) await eventually(() => listening(port), 20_000, `demo listening on ${port}`);

    npm.kill(signal);
    await eventually(() => exited, 10_000, `npm exited after ${signal}`);
    for (const port of ports) await eventually(async () => !(await listening(port)), 10_000, `port ${port} closed after ${signal} to npm`);
  }, 60_000);
});

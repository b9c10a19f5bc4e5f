/**
 * The README's gRPC demo, as a user types it: `npm run demo -- --grpc` in a user's shell (free
 * ports appended instead of the defaults), then the README's curl call, a real HTTP/2 client, and
 * its switch: a failing app answers grpc-status 14, and then the sidecar answers it itself.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closedPort } from '../support/faulty-upstream.js';
import { eventually, repoRoot } from '../support/cli.js';
import { killGroups, npmDemoFolder } from '../support/npm-demo-folder.js';
import { runInUserShell, userShellEnv } from '../support/user-shell.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const documented = (pattern: RegExp, what: string): string => {
  const found = pattern.exec(readme)?.[0];
  if (found === undefined) throw new Error(`README.md no longer shows ${what}`);
  return found;
};
const demoCommand = documented(/npm run demo -- --grpc/, 'the gRPC demo command');
const grpcCall = documented(/^printf .*curl .*--http2-prior-knowledge.*http:\/\/127\.0\.0\.1:8502\/\S+$/m, 'the gRPC curl call');
const switchCall = documented(/curl -X POST 'http:\/\/127\.0\.0\.1:8504\/_demo\/mode\?set=down'/, 'the mode switch');

const { folder, remove } = npmDemoFolder();
const groups: number[] = [];
afterAll(() => {
  killGroups(groups);
  remove();
});

describe('README: the gRPC demo', () => {
  it('answers the documented gRPC call with grpc-status 0, then 14 from the failing app and from the open circuit', async () => {
    const [port, adminPort, controlPort] = [await closedPort(), await closedPort(), await closedPort()];
    // The demo ends itself after --duration; a slow start on a loaded machine must not use it up (afterAll ends it).
    const demo = spawn('bash', ['-c', `${demoCommand} --port ${port} --admin-port ${adminPort} --control-port ${controlPort} --duration 600s`], {
      cwd: folder, env: userShellEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    groups.push(demo.pid as number);
    let output = '';
    demo.stdout.on('data', (data) => { output += String(data); });
    demo.stderr.on('data', (data) => { output += String(data); });
    const call = grpcCall.replace('127.0.0.1:8502', `127.0.0.1:${port}`);
    // curl gives up after 10 s (-m 10, exit 28). No call may: curl 7.88 stalls for ever when it is
    // answered before its upload ends, which the demo's app and the sidecar's own answers avoid
    // (sidecar/http2/after-request-body.ts). Each hung call is named with its step.
    let step = 'first call';
    const hung: string[] = [];
    const callOnce = async (): Promise<string> => {
      const result = await runInUserShell(call, { cwd: folder });
      if (result.code === 28) hung.push(step);
      return result.stdout;
    };

    await eventually(() => output.includes(call), 60_000, () => `the demo printing the README's call; it printed:\n${output}`);
    let first = '';
    await eventually(async () => /^HTTP\/2 200 \r?$[\s\S]*^grpc-status: 0\r?$/m.test(first = await callOnce()), 30_000, () => `grpc-status 0 from the healthy app; last:\n${first}`);

    step = 'the app failing';
    const switched = await runInUserShell(switchCall.replace('8504', String(controlPort)).replace('set=down', 'set=failing'), { cwd: folder });
    expect(switched.stdout).toContain('{"mode":"failing"}');
    await eventually(async () => /^grpc-status: 14\r?$/m.test(await callOnce()), 15_000, 'grpc-status 14 from the failing app');
    step = 'the circuit opening';
    let last = '';
    await eventually(async () => /^x-badgateway-reason: circuit-open\r?$/m.test(last = await callOnce()), 20_000, () => `the sidecar's own answer; last:\n${last}`);
    expect(last).toMatch(/^HTTP\/2 200 \r?$/m);
    expect(last).toMatch(/^content-type: application\/grpc\r?$/m);
    expect(last).toMatch(/^grpc-status: 14\r?$/m);
    expect(last).toMatch(/^grpc-retry-pushback-ms: \d+\r?$/m);
    expect(hung).toEqual([]);
    // The budgets above, plus each call's own 10 s (curl -m 10): a slow step fails with its message.
  }, 180_000);
});

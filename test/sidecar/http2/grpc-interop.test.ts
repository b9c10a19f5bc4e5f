import { describe, expect, it } from '@jest/globals';
import { execFile, spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { goTool } from '../../support/go-tools.js';
import { h2Fixtures } from '../../support/h2.js';

const server = goTool('interop-server', 'grpc-go interop');
const client = server === undefined ? undefined : goTool('interop-client', 'grpc-go interop');
const describeIfTools = server === undefined || client === undefined ? describe.skip : describe;
const h2 = h2Fixtures();

const CASES = [
  'empty_unary', 'large_unary', 'client_streaming', 'server_streaming', 'ping_pong', 'empty_stream',
  'cancel_after_begin', 'cancel_after_first_response', 'timeout_on_sleeping_server',
  'status_code_and_message', 'special_status_message', 'custom_metadata', 'unimplemented_method',
];

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describeIfTools('grpc-go interop through the sidecar (h2c both sides)', () => {
  it('passes every interop case the issue names', async () => {
    const appPort = await freePort();
    const app = spawn(server as string, [`--port=${appPort}`], { stdio: 'ignore' });
    h2.track({ close: () => { app.kill(); } });
    const sidecar = await h2.sidecar(`http://127.0.0.1:${appPort}`, { circuitBreaker: { volumeThreshold: 100_000 } }, 'h2c');
    const run = promisify(execFile);
    const outcomes: Record<string, string> = {};
    for (let attempt = 0; attempt < 50; attempt += 1) {
      // The interop server needs a moment to listen; its first empty_unary says when.
      const ready = await run(client as string, ['--server_host=127.0.0.1', `--server_port=${sidecar.port}`, '--test_case=empty_unary']).then(() => true, () => false);
      if (ready) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const testCase of CASES) {
      outcomes[testCase] = await run(client as string, ['--server_host=127.0.0.1', `--server_port=${sidecar.port}`, `--test_case=${testCase}`], { timeout: 60_000 })
        .then(() => 'passed', (error: { stderr?: string }) => `failed: ${(error.stderr ?? '').trim().split('\n').pop() ?? ''}`);
    }
    expect(outcomes).toEqual(Object.fromEntries(CASES.map((testCase) => [testCase, 'passed'])));
  }, 180_000);
});

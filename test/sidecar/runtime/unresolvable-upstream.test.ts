/**
 * An upstream whose host name does not resolve: the 502 says so (not "did not accept the
 * connection"), and the sidecar warns once at start, naming the host.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { runSidecar, type RunningSidecar } from '../../../sidecar/run-sidecar.js';
import { eventually } from '../../support/cli.js';
import { capturingLogger } from '../../support/capturing-logger.js';
import { rawExchange } from '../../support/raw-client.js';

let running: RunningSidecar | undefined;
afterEach(async () => {
  await running?.shutdown();
  running = undefined;
});

describe('an upstream host that does not resolve', () => {
  it('gets a 502 dns_error that says the name did not resolve, and one warning at start', async () => {
    const { lines, logger } = capturingLogger('sidecar');
    running = await runSidecar({
      upstream: new URL('http://no-such-host.invalid:8080'),
      listen: { host: '127.0.0.1', port: 0 },
      admin: { host: '127.0.0.1', port: 0 },
      drainTimeoutMs: 1000,
      logger,
    });
    await eventually(() => lines.some((line) => line.level === 'warn'), 10_000, 'a warning');
    expect(lines.filter((line) => line.level === 'warn').map((line) => line.msg)).toEqual([
      'upstream host no-such-host.invalid does not resolve (ENOTFOUND): requests get 502 connect-failed with Proxy-Status dns_error until it does',
    ]);

    const reply = await rawExchange(running.proxyAddress.port, 'GET / HTTP/1.1\r\nhost: x\r\naccept: application/json\r\nconnection: close\r\n\r\n');
    const response = reply.responses[0]!;
    const field = (name: string) => response.fields.find(([fieldName]) => fieldName.toLowerCase() === name)?.[1];
    expect([response.status, field('proxy-status'), field('x-badgateway-reason')]).toEqual([502, 'badgateway; error=dns_error', 'connect-failed']);
    expect(JSON.parse(response.body.toString('utf8'))).toMatchObject({ reason: 'connect-failed', detail: 'The application\'s host name could not be resolved.' });
  });
});

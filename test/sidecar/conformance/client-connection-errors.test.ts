/**
 * Noise: broken client connections are counted in badgateway_client_connection_errors_total{kind}
 * and logged at debug, never one warn line each (docs/errors.md).
 */
import { describe, expect, it } from '@jest/globals';
import { connect } from 'node:net';
import { capturingLogger } from '../../support/capturing-logger.js';
import { rawExchange } from '../../support/raw-client.js';
import { sidecarFixtures } from '../../support/sidecar-harness.js';
import { CONFORMANCE_POLICY } from './conformance.js';

const fixtures = sidecarFixtures();
const CONNECTIONS = 12;

/** Writes part of a request head, then resets the connection. */
function partialThenReset(port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write('GET /slow HTTP/1.1\r\nhost: x\r\nx-half', () => setTimeout(() => socket.resetAndDestroy(), 20));
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return condition();
}

describe('client connection errors', () => {
  it('counts malformed requests and client resets by kind and logs them at debug, never at warn', async () => {
    const app = await fixtures.rawUpstream();
    const { lines, logger } = capturingLogger('sidecar', 'debug');
    const sidecar = await fixtures.sidecar(app.url, CONFORMANCE_POLICY, undefined, logger);
    for (let index = 0; index < CONNECTIONS; index += 1) {
      await rawExchange(sidecar.address.port, 'HELLO\r\n\r\n', 3_000);
      await partialThenReset(sidecar.address.port);
    }
    const count = (kind: string) => sidecar.metrics.clientConnectionErrors.filter((seen) => seen === kind).length;
    expect(await waitFor(() => count('reset') === CONNECTIONS, 3_000)).toBe(true);
    expect({ malformed: count('malformed'), reset: count('reset') }).toEqual({ malformed: CONNECTIONS, reset: CONNECTIONS });
    expect(lines.filter((line) => line.level === 'warn' || line.level === 'error')).toEqual([]);
    expect(lines.filter((line) => line.level === 'debug').length).toBeGreaterThanOrEqual(2 * CONNECTIONS);
    expect(app.requests).toEqual([]);
  });
});

/**
 * The built-in HTML page of a fast failure retries by itself for safe methods: a meta refresh
 * after Retry-After seconds, when the breaker's next trial is due; never for unsafe methods, and
 * never in pages the policy provides.
 */
import { describe, expect, it } from '@jest/globals';
import { closedPort } from '../support/faulty-upstream.js';
import { rawExchange } from '../support/raw-client.js';
import { sidecarFixtures } from '../support/sidecar-harness.js';
import { CONFORMANCE_POLICY, onlyResponse } from './conformance/conformance.js';

const fixtures = sidecarFixtures();
const HTML = 'accept: text/html\r\nconnection: close\r\n';

async function openCircuit(policy: object): Promise<number> {
  const sidecar = await fixtures.sidecar(`http://127.0.0.1:${await closedPort()}`, policy);
  for (let index = 0; index < 2; index += 1) await rawExchange(sidecar.address.port, `GET / HTTP/1.1\r\nhost: x\r\n${HTML}\r\n`);
  expect(sidecar.proxy.breakerState()).toBe('open');
  return sidecar.address.port;
}

const field = (fields: [string, string][], name: string) => fields.find(([fieldName]) => fieldName.toLowerCase() === name)?.[1];

describe('the built-in error page retries by itself', () => {
  it('GET on an open circuit: a meta refresh after Retry-After seconds, said in words', async () => {
    const port = await openCircuit(CONFORMANCE_POLICY);
    const response = onlyResponse(await rawExchange(port, `GET /cart HTTP/1.1\r\nhost: x\r\n${HTML}\r\n`));
    const retryAfter = Number(field(response.fields, 'retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    const body = response.body.toString('utf8');
    expect(body).toContain(`<meta http-equiv="refresh" content="${retryAfter}">`);
    expect(body).toContain(`This page tries again by itself in ${retryAfter} second${retryAfter === 1 ? '' : 's'}.`);
    expect(body).not.toContain('<script');
  });

  it('POST on an open circuit: no refresh, a resubmission is the user\'s decision', async () => {
    const port = await openCircuit(CONFORMANCE_POLICY);
    const response = onlyResponse(await rawExchange(port, `POST /cart HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n${HTML}\r\n`));
    expect(field(response.fields, 'retry-after')).toBeDefined();
    const body = response.body.toString('utf8');
    expect(body).not.toContain('http-equiv="refresh"');
    expect(body).toContain('Please try again in a moment.');
  });

  it('a failure without Retry-After (the first connect-failed) has no refresh', async () => {
    const sidecar = await fixtures.sidecar(`http://127.0.0.1:${await closedPort()}`, CONFORMANCE_POLICY);
    const response = onlyResponse(await rawExchange(sidecar.address.port, `GET / HTTP/1.1\r\nhost: x\r\n${HTML}\r\n`));
    expect([response.status, field(response.fields, 'retry-after'), response.body.toString('utf8').includes('http-equiv="refresh"')]).toEqual([502, undefined, false]);
  });
});

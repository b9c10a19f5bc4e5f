import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { sidecarFixtures } from '../../support/sidecar-harness.js';
import { goTool } from '../../support/go-tools.js';
import { h2Fixtures } from '../../support/h2.js';

const h2spec = goTool('h2spec', 'h2spec conformance');
const describeIfTool = h2spec === undefined ? describe.skip : describe;
const fixtures = sidecarFixtures();
const h2 = h2Fixtures();

/**
 * The one case the sidecar fails by design (docs/reliability.md): the port also speaks HTTP/1.1,
 * so bytes that are not the preface are an HTTP/1.1 request, answered 400 and closed.
 */
const BY_DESIGN = ['Sends invalid connection preface'];

/** The descriptions of the failed cases, from h2spec's summary. */
async function failedCases(port: number): Promise<{ failed: string[]; summary: string }> {
  const run = promisify(execFile);
  const result = await run(h2spec as string, ['-h', '127.0.0.1', '-p', String(port), '-o', '2'], { maxBuffer: 16 * 1024 * 1024 }).catch((error: { stdout: string }) => error);
  const summaryStart = result.stdout.lastIndexOf('Failures:');
  const summaryText = summaryStart === -1 ? '' : result.stdout.slice(summaryStart);
  const failed = [...summaryText.matchAll(/×\s+\d+:\s+(.*)/g)].map((match) => (match[1] as string).trim());
  const summary = /\d+ tests, \d+ passed, \d+ skipped, \d+ failed/.exec(result.stdout)?.[0] ?? result.stdout.slice(-300);
  return { failed, summary };
}

describeIfTool('h2spec against the proxy port', () => {
  it('fails no case that a bare node:http2 server passes, except the shared port\'s invalid-preface case', async () => {
    const upstream = await fixtures.upstream();
    const sidecar = await h2.sidecar(upstream.url, { circuitBreaker: { volumeThreshold: 100_000 } });
    const bare = createServer();
    bare.on('stream', (stream) => {
      stream.on('error', () => undefined);
      stream.respond({ ':status': 200 });
      stream.end('ok');
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    h2.track({ close: () => new Promise<void>((resolve) => bare.close(() => resolve())) });
    const ours = await failedCases(sidecar.port);
    const nghttp2 = await failedCases((bare.address() as AddressInfo).port);
    process.stderr.write(`h2spec: sidecar ${ours.summary}; bare node:http2 ${nghttp2.summary}\n`);
    expect(ours.failed).toEqual(expect.arrayContaining(BY_DESIGN)); // the summary was read
    expect(ours.failed.filter((description) => !nghttp2.failed.includes(description) && !BY_DESIGN.includes(description))).toEqual([]);
  }, 120_000);
});

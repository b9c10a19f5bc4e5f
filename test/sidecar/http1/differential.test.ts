/**
 * Differential: the same generated stream of pipelined requests (methods, targets, fields,
 * Content-Length and chunked bodies with extensions and trailers, written in random pieces) goes
 * once straight to a recording node:http app and once through the sidecar to the same app. What
 * the app receives must be the same, apart from what the sidecar is meant to change: hop-by-hop
 * fields, X-Forwarded-*, X-Request-Id, and chunked trailers (dropped, as hop-by-hop framing).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { startSidecar, type Harness } from '../../support/sidecar-harness.js';

interface Seen {
  method: string;
  url: string;
  headers: [string, string][];
  body: string;
}

const CHANGED_BY_A_PROXY = new Set([
  'connection', 'keep-alive', 'te', 'trailer', 'upgrade', 'proxy-connection', 'x-forwarded-for', 'x-forwarded-proto',
  'x-forwarded-host', 'x-request-id',
]);

function record(req: IncomingMessage, body: Buffer): Seen {
  const headers: [string, string][] = [];
  for (let index = 0; index < req.rawHeaders.length; index += 2) {
    const name = (req.rawHeaders[index] as string).toLowerCase();
    if (!CHANGED_BY_A_PROXY.has(name)) headers.push([name, req.rawHeaders[index + 1] as string]);
  }
  // Where a proxy puts the fields it rewrites differs; the order within one name must not.
  headers.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { method: req.method ?? '', url: req.url ?? '', headers, body: body.toString('latin1') };
}

let app: Server;
let appPort = 0;
let seen: Seen[] = [];
let sidecar: Harness;

beforeAll(async () => {
  app = createServer((req, res) => {
    const pieces: Buffer[] = [];
    req.on('data', (piece: Buffer) => pieces.push(piece));
    req.on('end', () => {
      seen.push(record(req, Buffer.concat(pieces)));
      res.end(`ok ${seen.length}`);
    });
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appPort = (app.address() as AddressInfo).port;
  sidecar = await startSidecar(`http://127.0.0.1:${appPort}`, { circuitBreaker: { volumeThreshold: 1_000_000 } });
});

afterAll(async () => {
  await sidecar.close();
  app.closeAllConnections();
  await new Promise((resolve) => app.close(resolve));
});

const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/).filter((name) => !CHANGED_BY_A_PROXY.has(name) && !['host', 'content-length', 'transfer-encoding', 'expect'].includes(name));
const fieldValue = fc.stringMatching(/^[!-~]([ !-~]{0,30}[!-~])?$/);
const pathPart = fc.stringMatching(/^[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,12}$/);
/** Bodies up to 70 KB (more than one read), with every byte value. */
const body = fc.tuple(fc.integer({ min: 1, max: 70_000 }), fc.integer({ min: 0, max: 255 }))
  .map(([length, seed]) => Buffer.from(Array.from({ length }, (_, index) => (seed + index * 31) & 0xff)));

const request = fc.record({
  method: fc.constantFrom('GET', 'HEAD', 'DELETE', 'OPTIONS', 'POST', 'PUT', 'PATCH'),
  path: fc.array(pathPart, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`),
  query: fc.option(fc.stringMatching(/^[A-Za-z0-9=&%._-]{0,20}$/), { nil: undefined }),
  fields: fc.array(fc.tuple(token, fieldValue), { maxLength: 6 }),
  framing: fc.constantFrom('none', 'length', 'chunked'),
  body,
  chunkSizes: fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 6 }),
  extensions: fc.boolean(),
  trailers: fc.array(fc.tuple(token, fieldValue), { maxLength: 2 }),
});
type GeneratedRequest = typeof request extends fc.Arbitrary<infer T> ? T : never;

function encode(generated: GeneratedRequest, last: boolean): Buffer {
  const target = generated.query === undefined ? generated.path : `${generated.path}?${generated.query}`;
  let head = `${generated.method} ${target} HTTP/1.1\r\nHost: app.example\r\n`;
  for (const [name, value] of generated.fields) head += `${name}: ${value}\r\n`;
  if (last) head += 'Connection: close\r\n';
  const hasBody = generated.framing !== 'none' && generated.method !== 'GET' && generated.method !== 'HEAD';
  if (!hasBody) return Buffer.from(`${head}\r\n`, 'latin1');
  if (generated.framing === 'length') return Buffer.concat([Buffer.from(`${head}Content-Length: ${generated.body.length}\r\n\r\n`, 'latin1'), generated.body]);
  const parts: Buffer[] = [Buffer.from(`${head}Transfer-Encoding: chunked\r\n\r\n`, 'latin1')];
  let offset = 0;
  for (let index = 0; offset < generated.body.length; index += 1) {
    const size = Math.min(generated.chunkSizes[index % generated.chunkSizes.length] as number, generated.body.length - offset);
    parts.push(Buffer.from(`${size.toString(16)}${generated.extensions ? `;ext${index}=v` : ''}\r\n`, 'latin1'), generated.body.subarray(offset, offset + size), Buffer.from('\r\n'));
    offset += size;
  }
  let tail = '0\r\n';
  for (const [name, value] of generated.trailers) tail += `${name}: ${value}\r\n`;
  parts.push(Buffer.from(`${tail}\r\n`, 'latin1'));
  return Buffer.concat(parts);
}

/** Writes `bytes` in pieces cut at `cuts` (fractions), then waits for the connection to close. */
function send(port: number, bytes: Buffer, cuts: number[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      const offsets = [...new Set(cuts.map((cut) => Math.floor(cut * bytes.length)))].sort((a, b) => a - b);
      let start = 0;
      for (const offset of [...offsets, bytes.length]) {
        if (offset > start) socket.write(bytes.subarray(start, offset));
        start = Math.max(start, offset);
      }
    });
    let answer = '';
    socket.on('data', (data: Buffer) => { answer += data.toString('latin1'); });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer within 10 s')));
  });
}

describe('differential: what the app receives straight and through the sidecar', () => {
  it('is the same for generated pipelined request streams written in random pieces', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(request, { minLength: 1, maxLength: 5 }),
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
      async (requests, cuts) => {
        const stream = Buffer.concat(requests.map((generated, index) => encode(generated, index === requests.length - 1)));
        seen = [];
        const directAnswer = await send(appPort, stream, cuts);
        const direct = seen.map((entry) => ({ ...entry }));
        seen = [];
        const proxiedAnswer = await send(sidecar.address.port, stream, cuts);
        const proxied = seen;
        expect(proxied).toEqual(direct);
        // Every request was answered, in order, on both paths.
        expect(proxiedAnswer.match(/^HTTP\/1\.1 200 /gm)?.length).toBe(directAnswer.match(/^HTTP\/1\.1 200 /gm)?.length);
      },
    ), { numRuns: 40 });
  }, 120_000);
});

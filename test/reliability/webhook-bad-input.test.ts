/**
 * The built webhook server, alone in a child process, fed what a hostile or broken client sends:
 * malformed JSON, random JSON, wrong kinds, 1 MiB objects, oversized bodies, slow clients holding
 * TLS connections. Expected: 400s or safe allows (never a 5xx, never a denial), the process never
 * dies, legitimate reviews still answered, and memory and fds back near the baseline afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import fc from 'fast-check';
import { Agent, request } from 'undici';
import { repoRoot } from '../support/cli.js';
import { CASES } from '../support/fixtures/deployments.js';
import { heapUsedAfterGc, inspectorUrl } from './inspector-gc.js';

const HEAP_SLACK_BYTES = 16 * 1024 * 1024;
const FD_SLACK = 8;
const SLOW_CLIENTS = 100;
const SERVERNAME = 'badgateway-webhook.badgateway-system.svc';

let child: ChildProcess;
let output = '';
let port: number;
let caPem: string;
let inspector: string;
let client: Agent;

function openFds(): number {
  return readdirSync(`/proc/${child.pid}/fd`).length;
}

function review(object: unknown, overrides: Record<string, unknown> = {}) {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'uid-r', kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, operation: 'CREATE', namespace: 'shop', object, ...overrides },
  };
}

async function post(body: string | Buffer | object): Promise<{ status: number; json: { message?: string; response?: { allowed?: boolean; patch?: string } } }> {
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const response = await request(`https://127.0.0.1:${port}/mutate`, { method: 'POST', dispatcher: client, headers: { 'content-type': 'application/json' }, body: payload });
  const text = await response.body.text();
  return { status: response.statusCode, json: JSON.parse(text) as never };
}

/** 400 with a message, or 200 allowing: the two safe answers. */
function expectSafe(answer: Awaited<ReturnType<typeof post>>): void {
  if (answer.status === 200) expect(answer.json.response?.allowed).toBe(true);
  else {
    expect([400, 413]).toContain(answer.status);
    expect(typeof answer.json.message).toBe('string');
  }
}

beforeAll(async () => {
  child = spawn(process.execPath, ['--inspect=127.0.0.1:0', join(repoRoot, 'test', 'reliability', 'fixtures', 'webhook-process.mjs')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  child.stderr?.on('data', (data) => { output += String(data); });
  const first = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    child.stdout?.on('data', (data) => {
      buffered += String(data);
      const line = buffered.split('\n')[0];
      if (buffered.includes('\n') && line !== undefined) resolve(line);
    });
    child.on('exit', (code) => reject(new Error(`webhook process exited with ${String(code)}: ${output}`)));
  });
  ({ port, caPem } = JSON.parse(first) as { port: number; caPem: string });
  inspector = inspectorUrl(output) ?? '';
  client = new Agent({ connect: { ca: caPem, servername: SERVERNAME }, connections: 64 });
}, 60_000);

afterAll(async () => {
  await client?.close();
  child?.kill('SIGKILL');
});

describe('webhook under bad input (built code, own process)', () => {
  it('answers malformed bodies with 400 naming the problem', async () => {
    for (const body of ['{', 'null', '[]', '"AdmissionReview"', '{"kind":"AdmissionReview"}', Buffer.from([0xff, 0xfe, 0x00, 0x7b]), '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{}}']) {
      const answer = await post(body);
      expect(answer.status).toBe(400);
      expect(answer.json.message).toMatch(/malformed|AdmissionReview|uid|kind/);
    }
  });

  it('answers random JSON with a 400 or a safe allow, never a 5xx', async () => {
    const nearReview = fc.record({
      apiVersion: fc.oneof(fc.constant('admission.k8s.io/v1'), fc.jsonValue()),
      kind: fc.oneof(fc.constant('AdmissionReview'), fc.jsonValue()),
      request: fc.oneof(
        fc.record({
          uid: fc.oneof(fc.constant('u'), fc.jsonValue()),
          kind: fc.oneof(fc.constant({ group: 'apps', version: 'v1', kind: 'Deployment' }), fc.jsonValue()),
          operation: fc.oneof(fc.constantFrom('CREATE', 'UPDATE', 'DELETE', 'CONNECT'), fc.jsonValue()),
          namespace: fc.oneof(fc.constant('shop'), fc.jsonValue()),
          object: fc.oneof(fc.constant(CASES['named-http-port']), fc.jsonValue()),
          oldObject: fc.oneof(fc.constant(undefined), fc.jsonValue()),
        }, { requiredKeys: ['uid'] }),
        fc.jsonValue(),
      ),
    });
    await fc.assert(fc.asyncProperty(fc.oneof(fc.jsonValue(), nearReview), async (body) => {
      expectSafe(await post(JSON.stringify(body) ?? 'null'));
    }), { numRuns: 150 });
  }, 60_000);

  it('allows wrong kinds and nonsense objects unchanged', async () => {
    const wrong = [
      review({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } }, { kind: { group: '', version: 'v1', kind: 'Pod' } }),
      review({ apiVersion: 'v1', kind: 'ConfigMap', data: { a: 'b' } }, { kind: { group: '', version: 'v1', kind: 'ConfigMap' } }),
      review('a string where a Deployment should be'),
      review([1, 2, 3]),
      review(null),
      review({ metadata: { annotations: { 'badgateway.io/inject': 'true' } }, spec: 'not an object' }),
      review({ metadata: { annotations: { 'badgateway.io/inject': 'true' } }, spec: { template: { spec: { containers: 'nope' } } } }),
    ];
    for (const body of wrong) {
      const answer = await post(body);
      expectSafe(answer);
      if (answer.status === 200) expect(answer.json.response?.patch).toBeUndefined();
    }
  });

  it('handles 1 MiB objects, rejects oversized bodies with 413, survives deep nesting', async () => {
    const deployment = structuredClone(CASES['named-http-port']) as { metadata: { annotations?: Record<string, string> } };
    deployment.metadata.annotations = { ...deployment.metadata.annotations, 'example.com/blob': 'x'.repeat(1024 * 1024) };
    const big = await post(review(deployment));
    expect(big.status).toBe(200);
    expect(big.json.response?.allowed).toBe(true);

    const oversized = await post(review({ metadata: { annotations: { blob: 'x'.repeat(4 * 1024 * 1024) } } }));
    expect(oversized.status).toBe(413);

    const deep = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"d","object":${'['.repeat(500_000)}${']'.repeat(500_000)}}}`;
    expectSafe(await post(deep));
    expect(child.exitCode).toBeNull();
  }, 60_000);

  it('keeps memory bounded under 24 concurrent 1 MiB reviews', async () => {
    const baseline = await heapUsedAfterGc(inspector);
    const deployment = structuredClone(CASES['named-http-port']) as { metadata: { annotations?: Record<string, string> } };
    deployment.metadata.annotations = { ...deployment.metadata.annotations, 'example.com/blob': 'y'.repeat(1024 * 1024) };
    const body = JSON.stringify(review(deployment));
    for (let round = 0; round < 3; round += 1) {
      const answers = await Promise.all(Array.from({ length: 24 }, () => post(body)));
      for (const answer of answers) expect(answer.status).toBe(200);
    }
    const after = await heapUsedAfterGc(inspector);
    console.log(`webhook heap after GC: ${after} bytes (baseline ${baseline})`);
    expect(after).toBeLessThanOrEqual(baseline + HEAP_SLACK_BYTES);
  }, 120_000);

  it('keeps answering while slow clients hold connections (raw TCP and TLS trickling headers), and gives the fds back', async () => {
    const baselineFds = openFds();
    const sockets: Socket[] = [];
    const trickles: NodeJS.Timeout[] = [];
    for (let index = 0; index < SLOW_CLIENTS / 2; index += 1) {
      const raw = tcpConnect(port, '127.0.0.1');
      raw.on('error', () => undefined);
      sockets.push(raw);
      const tls = tlsConnect({ host: '127.0.0.1', port, ca: caPem, servername: SERVERNAME });
      tls.on('error', () => undefined);
      tls.on('secureConnect', () => {
        tls.write('POST /mutate HTTP/1.1\r\nHost: x\r\n');
        const trickle = setInterval(() => tls.write('X-Slow: a\r\n'), 500);
        trickle.unref();
        trickles.push(trickle);
      });
      sockets.push(tls);
    }
    try {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      for (let index = 0; index < 10; index += 1) {
        const started = performance.now();
        const answer = await post(review(CASES['named-http-port']));
        expect(answer.status).toBe(200);
        expect(performance.now() - started).toBeLessThan(5_000);
      }
      expect(child.exitCode).toBeNull();
    } finally {
      for (const trickle of trickles) clearInterval(trickle);
      for (const socket of sockets) socket.destroy();
    }
    const deadline = Date.now() + 20_000;
    while (openFds() > baselineFds + FD_SLACK && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(openFds()).toBeLessThanOrEqual(baselineFds + FD_SLACK);
  }, 60_000);
});

/**
 * The floor under the fleet bench's webhook figure: a mutating webhook that admits every object
 * unchanged (no patch, no lookup), in a process of its own beside the operator's, on Node's https
 * server as the operator's webhook is. fleet-webhook-floor.ts registers it with the operator's
 * rules, selectors and failurePolicy, so one rollout gives the apiserver's histogram for both: what
 * is left in the no-op's is the apiserver's call itself (TLS, its queueing) on this machine.
 *
 * Forked with an IPC channel: `fleet-noop-webhook.ts PORT CERT_DIR` (tls.crt, tls.key). It says
 * 'listening' once it listens; 'reset' starts a new window (answered once it has) and 'stats'
 * answers the window's reviews, the TLS handshakes they needed (connections the apiserver opened)
 * and each review's time from its head to its answer written, as the operator's own review metric
 * measures it.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';

export interface NoopWindow { reviews: number; handshakes: number; durationsMs: number[] }

const [portText, certDir] = process.argv.slice(2);
if (portText === undefined || certDir === undefined || process.send === undefined) {
  process.stderr.write('fleet-noop-webhook: usage (forked with IPC): fleet-noop-webhook.ts PORT CERT_DIR\n');
  process.exit(2);
}
const send = process.send.bind(process);
let window: NoopWindow = { reviews: 0, handshakes: 0, durationsMs: [] };

const server = createServer({
  key: readFileSync(join(certDir, 'tls.key')), cert: readFileSync(join(certDir, 'tls.crt')), minVersion: 'TLSv1.2',
  // As the operator's webhook server (KEEP_ALIVE_TIMEOUT_MS): longer than the apiserver keeps an
  // idle connection (90 s), so it closes first and no review is written into a closing socket.
  keepAliveTimeout: 120_000,
}, (request, response) => {
  const started = performance.now();
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    let uid: unknown;
    try {
      uid = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { request?: { uid?: unknown } }).request?.uid;
    } catch {
      uid = undefined;
    }
    if (typeof uid !== 'string') {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"malformed AdmissionReview: request.uid missing"}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true } }));
    window.reviews += 1;
    window.durationsMs.push(performance.now() - started);
  });
});
server.on('secureConnection', () => { window.handshakes += 1; });

process.on('message', (message) => {
  if (message === 'reset') {
    window = { reviews: 0, handshakes: 0, durationsMs: [] };
    send({ reset: true });
  }
  if (message === 'stats') send({ stats: window });
});
// The bench going away (its IPC channel closed) ends the no-op too: nothing left listening.
process.on('disconnect', () => process.exit(0));
// Where the operator's webhook listens (0.0.0.0), so the apiserver reaches both the same way.
server.listen(Number(portText), '0.0.0.0', () => send('listening'));

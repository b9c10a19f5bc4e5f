/**
 * An HTTPS front for a running test API server, for kubectl: client-go never sends a bearer token
 * over plain HTTP (kubernetes/kubectl#744), so kubectl against the plain server is anonymous and
 * gets 401. The front terminates TLS with a fresh self-signed loopback certificate and pipes the
 * bytes to the plain server unchanged, so every behaviour (watches, faults, errors) is the same.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { parse, stringify } from 'yaml';
import { selfSignedLoopbackCertificate } from './certificate.js';
import type { TestApiServer } from './index.js';

export interface TlsFront {
  /** `https://127.0.0.1:PORT` */
  url: string;
  /** A kubeconfig for `url`: the same token, the certificate as `certificate-authority-data`. */
  kubeconfigPath: string;
  kubeConfigYaml: string;
  /** PEM of the self-signed certificate (the CA to trust). */
  caPem: string;
  /** Closes the front only; the plain server stays up. */
  close(): Promise<void>;
}

export async function startTlsFront(plain: Pick<TestApiServer, 'url' | 'kubeConfigYaml'>, options: { port?: number } = {}): Promise<TlsFront> {
  const { certPem, keyPem } = await selfSignedLoopbackCertificate();
  const target = new URL(plain.url);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  const server = createServer({ cert: certPem, key: keyPem }, (client: TLSSocket) => {
    const upstream = connect(Number(target.port), target.hostname);
    track(client);
    track(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject); // e.g. EADDRINUSE for a fixed port
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const kubeconfig = parse(plain.kubeConfigYaml) as { clusters: Array<{ cluster: Record<string, unknown> }> };
  for (const entry of kubeconfig.clusters) {
    entry.cluster = { server: url, 'certificate-authority-data': Buffer.from(certPem).toString('base64') };
  }
  const kubeConfigYaml = stringify(kubeconfig);
  const directory = mkdtempSync(join(tmpdir(), 'test-apiserver-tls-'));
  const kubeconfigPath = join(directory, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeConfigYaml, { mode: 0o600 });

  return {
    url,
    kubeconfigPath,
    kubeConfigYaml,
    caPem: certPem,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

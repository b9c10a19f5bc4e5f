/**
 * kube-proxy for one Service, played by the test: the cluster's Service IPs are loopback addresses
 * (test/cluster/control-plane.ts), so a listener on `<clusterIP>:<port>` receives what kube-apiserver
 * sends to that Service (e.g. an admission webhook's `service:` reference) and forwards the bytes
 * to a process the test started on 127.0.0.1. TLS passes through untouched: the apiserver still
 * verifies the certificate for `<name>.<namespace>.svc` against the webhook's caBundle.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { clusterRequest, type Cluster } from './cluster.js';

export interface ServiceProxy {
  clusterIp: string;
  port: number;
  /** Points the Service at another local port (e.g. a restarted operator). */
  retarget(localPort: number): void;
  close(): Promise<void>;
}

export async function proxyService(cluster: Cluster, namespace: string, name: string, localPort: number): Promise<ServiceProxy> {
  const answer = await clusterRequest(cluster, 'GET', `/api/v1/namespaces/${namespace}/services/${name}`);
  const spec = (answer.body as { spec?: { clusterIP?: string; ports?: Array<{ port: number }> } }).spec;
  const clusterIp = spec?.clusterIP;
  const port = spec?.ports?.[0]?.port;
  if (answer.status !== 200 || clusterIp === undefined || port === undefined) throw new Error(`Service ${namespace}/${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
  if (!clusterIp.startsWith('127.')) throw new Error(`Service ${namespace}/${name} has clusterIP ${clusterIp}, not a loopback address: is this the test cluster?`);
  let target = localPort;
  const sockets = new Set<Socket>();
  const server: Server = createServer((incoming) => {
    const outgoing = connect(target, '127.0.0.1');
    for (const socket of [incoming, outgoing]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => { incoming.destroy(); outgoing.destroy(); });
    }
    incoming.pipe(outgoing).pipe(incoming);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, clusterIp, () => resolve());
  });
  return {
    clusterIp,
    port,
    retarget: (localPortNext) => { target = localPortNext; },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

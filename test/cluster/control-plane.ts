/**
 * A real control plane on 127.0.0.1, shaped like a kubeadm cluster: etcd, kube-apiserver (RBAC,
 * ServiceAccount issuer and keys, the default admission plugins, which include
 * MutatingAdmissionWebhook), kube-controller-manager (each controller with its own ServiceAccount
 * credentials), kube-scheduler, and kwok playing the nodes' kubelets so Deployments roll out and
 * their pods become Ready without containers. All data lives in one folder, removed on stop.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort } from '../support/faulty-upstream.js';
import { apiRequest, waitFor, type ApiTarget } from './api-request.js';
import type { ClusterBinaries } from './binaries.js';
import { kwokNodes, kwokArgs } from './kwok.js';
import { identities, kubeconfigYaml, writePki, type IdentityName } from './pki.js';
import { supervise } from './processes.js';

export interface ControlPlane {
  url: string;
  caPem: string;
  /** An admin (system:masters) kubeconfig. */
  kubeconfigPath: string;
  kubeconfigText: string;
  adminToken: string;
  /** Where each process writes its log (`etcd.log`, `kube-apiserver.log`, ...). */
  logDir: string;
  /**
   * Stops kube-apiserver alone (SIGTERM, as a rolling control-plane upgrade does) and starts it
   * again on the same port with the same etcd; resolves when it answers /readyz again.
   */
  restartApiserver(): Promise<void>;
  stop(): Promise<void>;
}

export interface ControlPlaneOptions {
  binaries: ClusterBinaries;
  log?: (line: string) => void;
  /** How many kwok nodes (default 2). */
  nodes?: number;
  /** Called when a process of the running control plane exits on its own. */
  onFailure?: (message: string) => void;
  /** Aborted while starting: what was started is stopped and its data removed, and the start rejects. */
  signal?: AbortSignal;
}

export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
export const SERVICE_CIDR = '127.96.0.0/16';

export async function startControlPlane(options: ControlPlaneOptions): Promise<ControlPlane> {
  const log = options.log ?? (() => undefined);
  const directory = mkdtempSync(join(tmpdir(), 'badgateway-cluster-'));
  const logDir = join(directory, 'logs');
  mkdirSync(logDir);
  let failure: string | undefined;
  const processes = supervise(logDir, (name, code, tail) => {
    failure = `${name} exited (${code ?? 'error'}); the end of ${join(logDir, `${name}.log`)}:\n${tail}`;
    options.onFailure?.(failure);
  });
  const stop = async (): Promise<void> => {
    await processes.stopAll();
    rmSync(directory, { recursive: true, force: true });
  };
  // Why the start must end now: a process exited, or the caller stopped it.
  const stopReason = (): string | undefined => failure ?? (options.signal?.aborted === true ? 'stopped while starting' : undefined);
  try {
    const pki = await writePki(directory);
    const [etcdClientPort, etcdPeerPort, apiPort] = [await closedPort(), await closedPort(), await closedPort()];
    const url = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = (identity: IdentityName): string => {
      const path = join(directory, `${identity}.kubeconfig`);
      writeFileSync(path, kubeconfigYaml(url, pki.caPem, pki.tokens[identity], identities[identity].user), { mode: 0o600 });
      return path;
    };

    log(`data and logs in ${directory}`);
    log('starting etcd…');
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    processes.start('etcd', options.binaries.etcd, [
      `--data-dir=${join(directory, 'etcd')}`, '--name=default',
      `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`, `--initial-cluster=default=${peerUrl}`,
      // A throwaway cluster: durability is not wanted, and fsync on a shared disk costs seconds.
      '--unsafe-no-fsync=true', '--log-level=warn',
    ]);

    log('starting kube-apiserver…');
    processes.start('kube-apiserver', options.binaries.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`,
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${apiPort}`,
      // The `kubernetes` Service's endpoints would be 127.0.0.1, which Endpoints validation refuses
      // (no loopback addresses); nothing in a kwok cluster dials that Service from a pod.
      '--endpoint-reconciler-type=none',
      `--cert-dir=${join(directory, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.certFile}`, `--tls-private-key-file=${pki.keyFile}`,
      `--token-auth-file=${pki.tokenFile}`,
      '--authorization-mode=Node,RBAC',
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-account-key-file=${pki.serviceAccountPublicKeyFile}`,
      `--service-account-signing-key-file=${pki.serviceAccountKeyFile}`,
      // Service IPs on loopback: a test plays kube-proxy for a Service by listening on its ClusterIP
      // (test/support/service-proxy.ts), so the apiserver reaches `service:` webhooks for real.
      `--service-cluster-ip-range=${SERVICE_CIDR}`, '--allow-privileged=true',
      // The default admission plugins stay as they are: NamespaceLifecycle, ServiceAccount,
      // MutatingAdmissionWebhook, ValidatingAdmissionWebhook, ResourceQuota, ... (kubeadm's set).
      '--v=1',
    ]);
    const admin: ApiTarget = { url, caPem: pki.caPem, token: pki.tokens.admin };
    const apiserverReady = async (): Promise<void> => {
      await waitFor(async () => {
        const answer = await apiRequest(admin, 'GET', '/readyz');
        return answer.status === 200 ? true : undefined;
      }, 120_000, () => `kube-apiserver not ready in 120 s:\n${processes.tail('kube-apiserver')}`, stopReason);
    };
    await apiserverReady();
    log('kube-apiserver /readyz answers');
    const restartApiserver = async (): Promise<void> => {
      log('restarting kube-apiserver…');
      await processes.restart('kube-apiserver');
      await apiserverReady();
      log('kube-apiserver /readyz answers again');
    };

    log('starting kube-controller-manager, kube-scheduler and kwok…');
    processes.start('kube-controller-manager', options.binaries.kubeControllerManager, [
      `--kubeconfig=${kubeconfig('controllerManager')}`,
      `--service-account-private-key-file=${pki.serviceAccountKeyFile}`, `--root-ca-file=${pki.caFile}`,
      '--use-service-account-credentials=true', '--leader-elect=false', '--secure-port=0',
      '--controllers=*', '--v=1',
      // At the default 20 requests a second per controller, the ReplicaSet controller alone needs
      // 500 s to create a fleet's 10,000 pods; large clusters raise it as scale tests do.
      '--kube-api-qps=500', '--kube-api-burst=1000',
    ]);
    processes.start('kube-scheduler', options.binaries.kubeScheduler, [
      `--kubeconfig=${kubeconfig('scheduler')}`, '--leader-elect=false', '--secure-port=0', '--v=1',
      '--kube-api-qps=500', '--kube-api-burst=1000',
    ]);
    // Its own HOME: kwok also loads ~/.kwok/kwok.yaml when one exists.
    processes.start('kwok', options.binaries.kwok, kwokArgs(kubeconfig('kwok'), await closedPort()), { ...process.env, HOME: directory });
    for (const node of kwokNodes(options.nodes ?? 2)) {
      const answer = await apiRequest(admin, 'POST', '/api/v1/nodes', node);
      if (answer.status !== 201) throw new Error(`creating node ${node.metadata.name}: ${answer.status} ${answer.body}`);
    }

    await waitFor(async () => {
      const account = await apiRequest(admin, 'GET', '/api/v1/namespaces/default/serviceaccounts/default');
      const nodes = JSON.parse((await apiRequest(admin, 'GET', '/api/v1/nodes')).body) as { items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }> };
      const readyNodes = nodes.items.filter((node) => node.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True'));
      return account.status === 200 && readyNodes.length === (options.nodes ?? 2) ? true : undefined;
    }, 120_000, () => `the default ServiceAccount or the kwok nodes not ready in 120 s:\n${processes.tail('kube-controller-manager')}\n${processes.tail('kwok')}`, stopReason);

    const kubeconfigText = kubeconfigYaml(url, pki.caPem, pki.tokens.admin, identities.admin.user);
    const kubeconfigPath = join(directory, 'admin.kubeconfig');
    writeFileSync(kubeconfigPath, kubeconfigText, { mode: 0o600 });
    return { url, caPem: pki.caPem, kubeconfigPath, kubeconfigText, adminToken: pki.tokens.admin, logDir, restartApiserver, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

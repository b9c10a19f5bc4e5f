/**
 * The Deployment controller and kubelet, as far as `helm --wait` looks: every Deployment in a
 * namespace gets the status of a finished rollout (all replicas updated, ready and available,
 * observedGeneration current). Polls the test API server; `close()` stops it.
 */
import type { TestApiServer } from './apiserver/index.js';

export interface StatusWriter { close(): void }

interface Deployment { metadata: { name: string; generation?: number; resourceVersion?: string }; spec?: { replicas?: number }; status?: { observedGeneration?: number } }

export function startDeploymentStatusWriter(server: Pick<TestApiServer, 'url' | 'kubeConfigYaml'>, namespace: string, everyMs = 250): StatusWriter {
  const token = /token: (\S+)/.exec(server.kubeConfigYaml)?.[1] ?? '';
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const base = `${server.url}/apis/apps/v1/namespaces/${namespace}/deployments`;
  let busy = false;
  const sync = async (): Promise<void> => {
    const response = await fetch(base, { headers });
    if (!response.ok) return;
    for (const deployment of ((await response.json()) as { items: Deployment[] }).items) {
      const generation = deployment.metadata.generation ?? 1;
      if (deployment.status?.observedGeneration === generation) continue;
      const replicas = deployment.spec?.replicas ?? 1;
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const status = {
        observedGeneration: generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas,
        conditions: [
          { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: now, lastTransitionTime: now },
          { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'ReplicaSet has successfully progressed.', lastUpdateTime: now, lastTransitionTime: now },
        ],
      };
      await fetch(`${base}/${deployment.metadata.name}/status`, { method: 'PUT', headers, body: JSON.stringify({ ...deployment, status }) });
    }
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void sync().catch(() => undefined).finally(() => { busy = false; });
  }, everyMs);
  timer.unref();
  return { close: () => clearInterval(timer) };
}

/**
 * The fleet bench's two policy figures. The batch: M policies applied at once (four creates in
 * flight), each one's time from its create answer to its first status (its first reconcile) and
 * to `Ready=True`, and the batch's rate, policies Ready a second: a queue and throughput figure.
 * The single apply: one policy at a time into the steady fleet, K in sequence, each after the
 * previous one's rollout has settled: the latency a team sees when it applies a policy.
 */
import { API_GROUP, API_VERSION, POLICY_PLURAL } from '../api/names.js';
import type { ApiTarget } from '../test/cluster/api-request.js';
import { getJson, inParallel, must } from './fleet-cluster.ts';
import { policyManifest, type FleetDeployment } from './fleet-objects.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));

interface PolicyView { metadata: { namespace: string; name: string }; status?: { conditions?: Array<{ type: string; status: string }> } }
export interface PolicyList { items: PolicyView[] }

export const policiesPath = `/apis/${API_GROUP}/${API_VERSION}/${POLICY_PLURAL}`;
export const isReady = (policy: PolicyView): boolean => policy.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') === true;
const hasStatus = (policy: PolicyView): boolean => (policy.status?.conditions?.length ?? 0) > 0;

async function createPolicy(target: ApiTarget, index: number, deployment: FleetDeployment): Promise<string> {
  const manifest = policyManifest(index, deployment) as { metadata: { name: string } };
  await must(target, 'POST', `/apis/${API_GROUP}/${API_VERSION}/namespaces/${deployment.namespace}/${POLICY_PLURAL}`, manifest, [201]);
  return manifest.metadata.name;
}

export interface BatchTimes {
  /** Each policy's create answer → its first status (ms). */
  firstStatusMs: number[];
  /** Each policy's create answer → Ready=True (ms). */
  readyMs: number[];
  /** Policies Ready a second, from the first create to the last Ready. */
  policiesPerSecond: number;
}

/**
 * Applies policy-0 … policy-(M-1) at once, one on each target, and times them by a list of every
 * policy each `pollMs` (a list of 500 policies ten times a second would itself load the apiserver).
 */
export async function applyBatch(target: ApiTarget, targets: readonly FleetDeployment[], timeoutMs: number, pollMs: number): Promise<BatchTimes> {
  const applied = new Map<string, number>();
  const firstStatus = new Map<string, number>();
  const ready = new Map<string, number>();
  let creating = true;
  const started = performance.now();
  const watching = (async () => {
    const deadline = Date.now() + timeoutMs;
    while (creating || ready.size < targets.length) {
      const list = await getJson<PolicyList>(target, policiesPath);
      const now = performance.now();
      for (const policy of list.items) {
        const key = `${policy.metadata.namespace}/${policy.metadata.name}`;
        if (!applied.has(key)) continue;
        if (!firstStatus.has(key) && hasStatus(policy)) firstStatus.set(key, now);
        if (!ready.has(key) && isReady(policy)) ready.set(key, now);
      }
      if (Date.now() > deadline) throw new Error(`${ready.size} of ${targets.length} policies Ready after ${timeoutMs / 1000} s`);
      await sleep(pollMs);
    }
  })();
  await inParallel(targets, 4, async (deployment, index) => {
    const name = await createPolicy(target, index, deployment);
    applied.set(`${deployment.namespace}/${name}`, performance.now());
  });
  creating = false;
  await watching;
  const since = (times: Map<string, number>): number[] => [...times].map(([key, at]) => at - (applied.get(key) as number));
  const lastReady = Math.max(...ready.values());
  return { firstStatusMs: since(firstStatus), readyMs: since(ready), policiesPerSecond: targets.length / ((lastReady - started) / 1000) };
}

/**
 * Applies one policy at a time (indexes from `firstIndex`, one on each target) and returns each
 * one's create answer → Ready=True (ms, a GET every 50 ms); `settle` runs after each, so the next
 * one meets a fleet at rest again.
 */
export async function applyOneByOne(
  target: ApiTarget, targets: readonly FleetDeployment[], firstIndex: number, timeoutMs: number, settle: () => Promise<void>,
): Promise<number[]> {
  const times: number[] = [];
  for (const [offset, deployment] of targets.entries()) {
    const name = await createPolicy(target, firstIndex + offset, deployment);
    const applied = performance.now();
    const path = `/apis/${API_GROUP}/${API_VERSION}/namespaces/${deployment.namespace}/${POLICY_PLURAL}/${name}`;
    const deadline = Date.now() + timeoutMs;
    while (!isReady(await getJson<PolicyView>(target, path))) {
      if (Date.now() > deadline) throw new Error(`${deployment.namespace}/${name}, applied alone, not Ready after ${timeoutMs / 1000} s`);
      await sleep(50);
    }
    times.push(performance.now() - applied);
    await settle();
  }
  return times;
}

/**
 * `npm run bench:fleet -- --deployments N --policies M [--kubeconfig FILE] [--idle-seconds S]`:
 * the operator at fleet scale on the real control plane (DESIGN.md, "For contributors"). The last
 * line is the summary `fleet: deployments=N policies=M ready_p99_ms=X webhook_p99_ms=Y
 * operator_rss_mib=Z idle_requests_per_min=W`; the figures behind it go to bench/.run/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { API_GROUP, API_VERSION, POLICY_PLURAL } from '../api/names.js';
import { connectCluster, getJson, inParallel, mergePatch, must, type FleetCluster } from './fleet-cluster.ts';
import { bucketDelta, buckets, histogramQuantile, sum } from './fleet-metrics.ts';
import { deploymentManifest, fleetDeployments, namespaceManifest, policyManifest, policyTargets, REPLICAS, type FleetDeployment } from './fleet-objects.ts';
import { bytesPerDeployment, footprint, recordFootprint } from './fleet-memory.ts';
import { benchDirectory, FLOW_SCHEMAS, installOperatorIdentity, installWebhook, operatorSettled, startOperator } from './fleet-operator.ts';
import { restartUnderFleet } from './fleet-recovery.ts';
import { cpuMicros, freePort, percentile, rssMiB } from './processes.ts';
import type { ApiTarget } from '../test/cluster/api-request.js';

const say = (line: string): void => { process.stdout.write(`${line}\n`); };
const sleep = (ms: number): Promise<void> => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
const PARALLEL_WRITES = 8;

function options(): { deployments: number; policies: number; kubeconfig?: string; idleSeconds: number } {
  const { values } = parseArgs({ options: { deployments: { type: 'string' }, policies: { type: 'string' }, kubeconfig: { type: 'string' }, 'idle-seconds': { type: 'string', default: '60' } } });
  const whole = (name: string, text: string | undefined, min: number): number => {
    const value = Number(text);
    if (text === undefined || !Number.isInteger(value) || value < min) throw new Error(`--${name}: expected a whole number ≥ ${min}, got "${text ?? ''}"`);
    return value;
  };
  const deployments = whole('deployments', values.deployments, 2);
  return {
    deployments,
    policies: whole('policies', values.policies, 1),
    idleSeconds: whole('idle-seconds', values['idle-seconds'], 10),
    ...(values.kubeconfig === undefined ? {} : { kubeconfig: resolve(values.kubeconfig) }),
  };
}

async function createDeployments(target: ApiTarget, deployments: readonly FleetDeployment[]): Promise<void> {
  const namespaces = [...new Set(deployments.map((deployment) => deployment.namespace))];
  await inParallel(namespaces, PARALLEL_WRITES, async (name) => { await must(target, 'POST', '/api/v1/namespaces', namespaceManifest(name), [201, 409]); });
  await inParallel(deployments, PARALLEL_WRITES, async (deployment) => {
    await must(target, 'POST', `/apis/apps/v1/namespaces/${deployment.namespace}/deployments`, deploymentManifest(deployment), [201]);
  });
}

interface DeploymentList { items: Array<{ metadata: { namespace: string }; spec: { template: { spec: { initContainers?: unknown[] } } }; status?: { updatedReplicas?: number; availableReplicas?: number; replicas?: number } }> }

/** Every fleet Deployment rolled out: all replicas updated and available, none left over. */
async function waitRolledOut(target: ApiTarget, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await getJson<DeploymentList>(target, '/apis/apps/v1/deployments');
    const fleet = list.items.filter((item) => item.metadata.namespace.startsWith('fleet-'));
    const done = fleet.filter((item) => item.status?.updatedReplicas === REPLICAS && item.status.availableReplicas === REPLICAS && item.status.replicas === REPLICAS).length;
    if (fleet.length === count && done === count) return;
    if (Date.now() > deadline) throw new Error(`${done} of ${count} Deployments rolled out after ${timeoutMs / 1000} s`);
    await sleep(1000);
  }
}

interface PolicyList { items: Array<{ metadata: { namespace: string; name: string }; status?: { conditions?: Array<{ type: string; status: string }> } }> }
const policiesPath = `/apis/${API_GROUP}/${API_VERSION}/${POLICY_PLURAL}`;
const isReady = (policy: PolicyList['items'][number]): boolean => policy.status?.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') === true;

/** Applies the policies and returns each one's time from its create answer to Ready=True (ms). */
async function applyPolicies(target: ApiTarget, targets: readonly FleetDeployment[], timeoutMs: number): Promise<number[]> {
  const applied = new Map<string, number>();
  const ready = new Map<string, number>();
  let creating = true;
  const watching = (async () => {
    const deadline = Date.now() + timeoutMs;
    while (creating || ready.size < targets.length) {
      const list = await getJson<PolicyList>(target, policiesPath);
      const now = performance.now();
      for (const policy of list.items) {
        const key = `${policy.metadata.namespace}/${policy.metadata.name}`;
        if (!ready.has(key) && applied.has(key) && isReady(policy)) ready.set(key, now);
      }
      if (Date.now() > deadline) throw new Error(`${ready.size} of ${targets.length} policies Ready after ${timeoutMs / 1000} s`);
      await sleep(100);
    }
  })();
  await inParallel(targets, 4, async (deployment, index) => {
    const manifest = policyManifest(index, deployment) as { metadata: { name: string } };
    await must(target, 'POST', `/apis/${API_GROUP}/${API_VERSION}/namespaces/${deployment.namespace}/${POLICY_PLURAL}`, manifest, [201]);
    applied.set(`${deployment.namespace}/${manifest.metadata.name}`, performance.now());
  });
  creating = false;
  await watching;
  return [...ready].map(([key, at]) => at - (applied.get(key) as number));
}

async function scrape(target: ApiTarget): Promise<string> {
  return (await must(target, 'GET', '/metrics', undefined, [200])).body;
}

const dispatched = (text: string, schema: string): number => sum(text, 'apiserver_flowcontrol_dispatched_requests_total', { flow_schema: schema });
/** The operator's requests but its Lease's: its lists are counted under a flow schema of their own. */
const operatorRequests = (text: string): number => dispatched(text, FLOW_SCHEMAS.other) + dispatched(text, FLOW_SCHEMAS.list);

async function run(cluster: FleetCluster, size: ReturnType<typeof options>): Promise<Record<string, number>> {
  const { target } = cluster;
  const directory = benchDirectory();
  say(`fleet: work folder ${directory} (operator log: operator.log)`);
  const kubeconfig = await installOperatorIdentity(target, directory);
  const webhookPort = await freePort();
  const webhookCaPem = await installWebhook(target, directory, webhookPort);
  const logFile = join(directory, 'operator.log');
  let operator = await startOperator(kubeconfig, webhookPort, directory, logFile);
  const figures: Record<string, number> = {};
  try {
    recordFootprint(figures, 'empty', await footprint(operator));
    const half = Math.floor(size.deployments / 2);
    const deployments = [...fleetDeployments(half), ...fleetDeployments(size.deployments - half, half)];
    // Generous: kwok rolls five pods a Deployment out on a machine the bench shares with the control plane.
    const rolloutTimeout = 300_000 + size.deployments * 2_000;

    await createDeployments(target, deployments.slice(0, half));
    await waitRolledOut(target, half, rolloutTimeout);
    const atHalf = await footprint(operator);
    recordFootprint(figures, 'half', atHalf);
    await createDeployments(target, deployments.slice(half));
    await waitRolledOut(target, size.deployments, rolloutTimeout);
    const atFull = await footprint(operator);
    recordFootprint(figures, 'full', atFull);
    const slope = (mib: (measured: typeof atFull) => number): number =>
      bytesPerDeployment({ deployments: half, mib: mib(atHalf) }, { deployments: size.deployments, mib: mib(atFull) });
    figures.rss_bytes_per_deployment = slope((measured) => measured.rss);
    figures.heap_bytes_per_deployment = slope((measured) => measured.heapAfterGc);
    say(`fleet: ${size.deployments} Deployments (${size.deployments * REPLICAS} pods) rolled out; operator RSS ${atHalf.rss.toFixed(1)} → ${atFull.rss.toFixed(1)} MiB, JS heap after GC ${atHalf.heapAfterGc.toFixed(2)} → ${atFull.heapAfterGc.toFixed(2)} MiB`);
    say(`fleet: memory slope ${half} → ${size.deployments} Deployments: ${figures.heap_bytes_per_deployment} B of heap a Deployment (${figures.rss_bytes_per_deployment} B of RSS)`);

    const targets = policyTargets(deployments, size.policies);
    const readyMs = await applyPolicies(target, targets, 600_000);
    figures.ready_p50_ms = Math.round(percentile(readyMs, 50));
    figures.ready_p99_ms = Math.round(percentile(readyMs, 99));
    say(`fleet: ${size.policies} policies Ready: p50 ${figures.ready_p50_ms} ms, p99 ${figures.ready_p99_ms} ms`);
    await waitRolledOut(target, size.deployments, rolloutTimeout);
    await operatorSettled(operator, 300_000);

    await sleep(10_000);
    const idleBefore = await scrape(target);
    const cpuBefore = cpuMicros(operator.pid);
    await sleep(size.idleSeconds * 1000);
    const idleAfter = await scrape(target);
    const perMinute = (count: (text: string) => number): number => ((count(idleAfter) - count(idleBefore)) * 60) / size.idleSeconds;
    figures.idle_requests_per_min = perMinute(operatorRequests);
    figures.idle_lease_requests_per_min = perMinute((text) => dispatched(text, FLOW_SCHEMAS.lease));
    figures.idle_cpu_percent = Number((((cpuMicros(operator.pid) - cpuBefore) / (size.idleSeconds * 1e6)) * 100).toFixed(2));
    figures.operator_rss_mib = Number(rssMiB(operator.pid).toFixed(1));
    figures.operator_rss_anon_mib = Number(rssMiB(operator.pid, 'RssAnon').toFixed(1));
    say(`fleet: idle ${size.idleSeconds} s: ${figures.idle_requests_per_min.toFixed(1)} requests/min (+ ${figures.idle_lease_requests_per_min.toFixed(1)} lease renewals/min), CPU ${figures.idle_cpu_percent} %, RSS ${figures.operator_rss_mib} MiB`);

    const webhookFilter = { name: 'deployments.badgateway.io', type: 'admit' };
    const rolloutBefore = await scrape(target);
    const reconcilesBefore = sum(await operator.metrics(), 'badgateway_operator_reconciles_total');
    const cpuRollout = cpuMicros(operator.pid);
    const rolloutStarted = performance.now();
    const optedIn = deployments.filter((deployment) => deployment.optedIn);
    await inParallel(optedIn, PARALLEL_WRITES, async (deployment) => {
      await mergePatch(target, `/apis/apps/v1/namespaces/${deployment.namespace}/deployments/${deployment.name}`, { spec: { template: { metadata: { annotations: { 'fleet.badgateway.io/rollout': String(Date.now()) } } } } });
    });
    const rolloutAfter = await scrape(target);
    const admitted = bucketDelta(buckets(rolloutBefore, 'apiserver_admission_webhook_admission_duration_seconds', webhookFilter), buckets(rolloutAfter, 'apiserver_admission_webhook_admission_duration_seconds', webhookFilter));
    figures.webhook_admissions = admitted.get(Infinity) ?? 0;
    figures.webhook_p50_ms = Number(((histogramQuantile(0.5, admitted) ?? NaN) * 1000).toFixed(1));
    figures.webhook_p99_ms = Number(((histogramQuantile(0.99, admitted) ?? NaN) * 1000).toFixed(1));
    figures.rollout_operator_requests = operatorRequests(rolloutAfter) - operatorRequests(rolloutBefore);
    figures.rollout_cpu_percent = Number((((cpuMicros(operator.pid) - cpuRollout) / ((performance.now() - rolloutStarted) * 1000)) * 100).toFixed(1));
    say(`fleet: rollout of ${optedIn.length} opted-in Deployments: ${figures.webhook_admissions} admissions, webhook p50 ${figures.webhook_p50_ms} ms, p99 ${figures.webhook_p99_ms} ms (apiserver histogram); operator sent ${figures.rollout_operator_requests} requests`);
    await waitRolledOut(target, size.deployments, rolloutTimeout);
    await operatorSettled(operator, 300_000);
    figures.rollout_reconciles = sum(await operator.metrics(), 'badgateway_operator_reconciles_total') - reconcilesBefore;

    await operator.stop();
    const restarted = performance.now();
    operator = await startOperator(kubeconfig, webhookPort, directory, logFile);
    const deadline = Date.now() + 300_000;
    while (sum(await operator.metrics(), 'badgateway_operator_reconciles_total') < size.policies || sum(await operator.metrics(), 'badgateway_operator_queue_depth') > 0) {
      if (Date.now() > deadline) throw new Error('after the restart the operator did not reconcile every policy within 300 s');
      await sleep(100);
    }
    figures.resync_ms = Math.round(performance.now() - restarted);
    const policies = await getJson<PolicyList>(target, policiesPath);
    figures.ready_after_restart = policies.items.filter(isReady).length;
    say(`fleet: operator restart: every policy reconciled in ${figures.resync_ms} ms; ${figures.ready_after_restart} of ${size.policies} Ready`);
    if (figures.ready_after_restart !== size.policies) throw new Error(`only ${figures.ready_after_restart} of ${size.policies} policies Ready after the restart`);

    const firstTarget = targets[0];
    if (cluster.restartApiserver === undefined || firstTarget === undefined) {
      say('fleet: apiserver restart: skipped (the control plane is not the bench\'s own)');
      return figures;
    }
    Object.assign(figures, await restartUnderFleet({
      cluster: { ...cluster, restartApiserver: cluster.restartApiserver }, operator, webhook: { port: webhookPort, caPem: webhookCaPem },
      policy: { namespace: firstTarget.namespace, name: 'policy-0', target: firstTarget }, timeoutMs: 300_000,
    }, () => operatorSettled(operator, 300_000)));
    say(`fleet: apiserver restart: away ${figures.apiserver_down_ms} ms; webhook answered ${figures.webhook_answered_during_restart} of ${figures.webhook_reviews_during_restart} reviews meanwhile; `
      + `a policy changed on its return Ready in ${figures.status_truthful_ms} ms; operator since the restart: ${figures.relists_after_restart} lists, ${figures.requests_after_restart} requests; Lease ${figures.leader_lost_during_restart === 1 ? 'lost' : 'kept'}`);
    return figures;
  } finally {
    await operator.stop();
  }
}

let size: ReturnType<typeof options>;
try {
  size = options();
} catch (error) {
  process.stderr.write(`fleet: ${(error as Error).message}\n`);
  process.exit(2);
}
const started = Date.now();
// A worker node per 100 pods, as a kubelet's 110-pod limit needs, within the launcher's 100.
const nodes = Math.min(100, Math.ceil((size.deployments * REPLICAS) / 100) + 1);
const cluster = await connectCluster(size.kubeconfig, nodes, say);
// Interrupted: the control plane this run started goes with it (its processes run detached).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void (cluster.stop?.() ?? Promise.resolve()).finally(() => process.exit(130)));
}
let exitCode = 0;
try {
  const figures = await run(cluster, size);
  const out = resolve(import.meta.dirname, '.run');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `fleet-${size.deployments}-${size.policies}.json`), `${JSON.stringify({ ...size, nodes, seconds: Math.round((Date.now() - started) / 1000), figures }, null, 2)}\n`);
  say(`fleet: deployments=${size.deployments} policies=${size.policies} ready_p99_ms=${figures.ready_p99_ms} webhook_p99_ms=${figures.webhook_p99_ms} operator_rss_mib=${figures.operator_rss_mib} idle_requests_per_min=${(figures.idle_requests_per_min as number).toFixed(1)}`);
} catch (error) {
  process.stderr.write(`fleet: ${(error as Error).message}\n`);
  exitCode = 1;
} finally {
  await cluster.stop?.();
}
process.exit(exitCode);

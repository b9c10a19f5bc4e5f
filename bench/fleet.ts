/**
 * `npm run bench:fleet -- --deployments N --policies M [--kubeconfig FILE] [--idle-seconds S]
 * [--single-samples K]`: the operator at fleet scale on the real control plane (DESIGN.md, "For
 * contributors"). The last line is the summary `fleet: deployments=N policies=M ready_p99_ms=X
 * webhook_p99_ms=Y operator_rss_mib=Z idle_requests_per_min=W`, where X is the p99 of K policies
 * applied one at a time into the steady fleet (the batch of M at once is a throughput figure,
 * printed apart); the figures behind it go to bench/.run/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connectCluster, getJson, inParallel, mergePatch, must, type FleetCluster } from './fleet-cluster.ts';
import { sum } from './fleet-metrics.ts';
import { deploymentManifest, fleetDeployments, namespaceManifest, policyTargets, REPLICAS, singleTargets, type FleetDeployment } from './fleet-objects.ts';
import { bytesPerDeployment, footprint, recordFootprint } from './fleet-memory.ts';
import { describeParts } from './fleet-memory-parts.ts';
import { applyBatch, applyOneByOne, isReady, policiesPath, type PolicyList } from './fleet-policies.ts';
import { benchDirectory, FLOW_SCHEMAS, installOperatorIdentity, installWebhook, operatorSettled, startOperator } from './fleet-operator.ts';
import { restartUnderFleet } from './fleet-recovery.ts';
import { describeWebhooks, directCalls, startWebhookFloor, webhookFigures, type WebhookFloor } from './fleet-webhook-floor.ts';
import { cpuMicros, freePort, percentile, rssMiB } from './processes.ts';
import type { ApiTarget } from '../test/cluster/api-request.js';

const say = (line: string): void => { process.stdout.write(`${line}\n`); };
const sleep = (ms: number): Promise<void> => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
const PARALLEL_WRITES = 8;

function options(): { deployments: number; policies: number; kubeconfig?: string; idleSeconds: number; singleSamples: number } {
  const { values } = parseArgs({ options: {
    deployments: { type: 'string' }, policies: { type: 'string' }, kubeconfig: { type: 'string' },
    'idle-seconds': { type: 'string', default: '60' }, 'single-samples': { type: 'string', default: '10' },
  } });
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
    singleSamples: whole('single-samples', values['single-samples'], 0),
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

interface DeploymentList {
  items: Array<{
    metadata: { namespace: string; generation?: number };
    status?: { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number; replicas?: number };
  }>;
}

/** Every fleet Deployment rolled out: its latest spec seen by the controller, all replicas updated and available, none left over. */
async function waitRolledOut(target: ApiTarget, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await getJson<DeploymentList>(target, '/apis/apps/v1/deployments');
    const fleet = list.items.filter((item) => item.metadata.namespace.startsWith('fleet-'));
    const done = fleet.filter((item) => item.status?.observedGeneration === item.metadata.generation
      && item.status?.updatedReplicas === REPLICAS && item.status.availableReplicas === REPLICAS && item.status.replicas === REPLICAS).length;
    if (fleet.length === count && done === count) return;
    if (Date.now() > deadline) throw new Error(`${done} of ${count} Deployments rolled out after ${timeoutMs / 1000} s`);
    await sleep(1000);
  }
}

/**
 * Records the seconds since the previous mark as figures.phase_<name>_s, and says them at once (a
 * run stopped before its end still shows what its wall time went to).
 */
function phaseClock(figures: Record<string, number>): (name: string) => void {
  let last = performance.now();
  return (name) => {
    const now = performance.now();
    figures[`phase_${name}_s`] = Math.round((now - last) / 1000);
    say(`fleet: phase ${name} took ${figures[`phase_${name}_s`]} s (load average ${loadavg()[0]?.toFixed(1)})`);
    last = now;
  };
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
  const phase = phaseClock(figures);
  let floor: WebhookFloor | undefined;
  try {
    floor = await startWebhookFloor(target, directory, webhookCaPem);
    recordFootprint(figures, 'empty', await footprint(operator));
    phase('operator_start');
    const half = Math.floor(size.deployments / 2);
    const deployments = [...fleetDeployments(half), ...fleetDeployments(size.deployments - half, half)];
    // Generous: kwok rolls five pods a Deployment out on a machine the bench shares with the control plane.
    const rolloutTimeout = 300_000 + size.deployments * 2_000;

    await createDeployments(target, deployments.slice(0, half));
    phase('create_first_half');
    await waitRolledOut(target, half, rolloutTimeout);
    phase('rollout_first_half');
    const atHalf = await footprint(operator);
    recordFootprint(figures, 'half', atHalf);
    phase('memory_first_half');
    await createDeployments(target, deployments.slice(half));
    phase('create_second_half');
    await waitRolledOut(target, size.deployments, rolloutTimeout);
    phase('rollout_second_half');
    const atFull = await footprint(operator);
    recordFootprint(figures, 'full', atFull);
    const slope = (mib: (measured: typeof atFull) => number): number =>
      bytesPerDeployment({ deployments: half, mib: mib(atHalf) }, { deployments: size.deployments, mib: mib(atFull) });
    figures.rss_bytes_per_deployment = slope((measured) => measured.rss);
    figures.heap_bytes_per_deployment = slope((measured) => measured.heapAfterGc);
    say(`fleet: ${size.deployments} Deployments (${size.deployments * REPLICAS} pods) rolled out; operator RSS ${atHalf.rss.toFixed(1)} → ${atFull.rss.toFixed(1)} MiB, JS heap after GC ${atHalf.heapAfterGc.toFixed(2)} → ${atFull.heapAfterGc.toFixed(2)} MiB`);
    say(`fleet: memory slope ${half} → ${size.deployments} Deployments: ${figures.heap_bytes_per_deployment} B of heap a Deployment (${figures.rss_bytes_per_deployment} B of RSS)`);
    say(`fleet: memory at ${half} Deployments: ${describeParts(atHalf.parts)}`);
    say(`fleet: memory at ${size.deployments} Deployments: ${describeParts(atFull.parts)}`);

    const targets = policyTargets(deployments, size.policies);
    phase('memory');
    const reconciled = async (): Promise<number> => sum(await operator.metrics(), 'badgateway_operator_reconciles_total');
    const reconcilesBeforeBatch = await reconciled();
    // Two reconciles at a time, each three writes on an apiserver busy rolling the stamped
    // Deployments out: 0.36 policies a second at 2,000 / 500 on this machine.
    const batchTimeoutMs = Math.max(600_000, size.policies * 6_000);
    const batchPollMs = size.policies > 100 ? 1_000 : 100;
    const batch = await applyBatch(target, targets, batchTimeoutMs, batchPollMs);
    // Reconciles it took until the last one was Ready: one a policy when Ready is written in the pass that stamps its target.
    figures.batch_reconciles_to_ready = await reconciled() - reconcilesBeforeBatch;
    phase('policies_at_once');
    figures.batch_first_status_p50_ms = Math.round(percentile(batch.firstStatusMs, 50));
    figures.batch_first_status_p99_ms = Math.round(percentile(batch.firstStatusMs, 99));
    figures.batch_ready_p50_ms = Math.round(percentile(batch.readyMs, 50));
    figures.batch_ready_p99_ms = Math.round(percentile(batch.readyMs, 99));
    figures.batch_policies_per_s = Number(batch.policiesPerSecond.toFixed(2));
    say(`fleet: ${size.policies} policies applied at once (their statuses listed every ${batchPollMs} ms): first status p50 ${figures.batch_first_status_p50_ms} ms, p99 ${figures.batch_first_status_p99_ms} ms; `
      + `Ready p50 ${figures.batch_ready_p50_ms} ms, p99 ${figures.batch_ready_p99_ms} ms; ${figures.batch_policies_per_s} policies Ready a second; `
      + `${figures.batch_reconciles_to_ready} reconciles until the last was Ready`);
    await waitRolledOut(target, size.deployments, rolloutTimeout);
    await operatorSettled(operator, 300_000);

    const singles = singleTargets(deployments, size.policies, size.singleSamples);
    const settle = async (): Promise<void> => {
      await waitRolledOut(target, size.deployments, rolloutTimeout);
      await operatorSettled(operator, 300_000);
    };
    phase('rollout_after_policies');
    const singleMs = await applyOneByOne(target, singles, size.policies, 120_000, settle);
    phase('policies_one_at_a_time');
    const readyMs = singleMs.length > 0 ? singleMs : batch.readyMs;
    figures.single_samples = singleMs.length;
    figures.ready_p50_ms = Math.round(percentile(readyMs, 50));
    figures.ready_p99_ms = Math.round(percentile(readyMs, 99));
    figures.ready_max_ms = Math.round(Math.max(...readyMs));
    say(singleMs.length > 0
      ? `fleet: ${singleMs.length} policies applied one at a time into the steady fleet: Ready p50 ${figures.ready_p50_ms} ms, p99 ${figures.ready_p99_ms} ms, max ${figures.ready_max_ms} ms`
      : 'fleet: no opted-in Deployment left for policies applied one at a time; ready_p99_ms is the batch\'s');
    const policyCount = size.policies + singleMs.length;

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
    const steady = await footprint(operator);
    recordFootprint(figures, 'steady', steady);
    say(`fleet: memory at steady state with ${policyCount} policies, after full collections: ${describeParts(steady.parts)}`);
    phase('idle_and_memory');

    const rolloutBefore = await scrape(target);
    const operatorBefore = await operator.metrics();
    await floor.reset();
    const reconcilesBefore = await reconciled();
    const cpuRollout = cpuMicros(operator.pid);
    const rolloutStarted = performance.now();
    const optedIn = deployments.filter((deployment) => deployment.optedIn);
    await inParallel(optedIn, PARALLEL_WRITES, async (deployment) => {
      await mergePatch(target, `/apis/apps/v1/namespaces/${deployment.namespace}/deployments/${deployment.name}`, { spec: { template: { metadata: { annotations: { 'fleet.badgateway.io/rollout': String(Date.now()) } } } } });
    });
    const rolloutAfter = await scrape(target);
    phase('rollout_writes');
    Object.assign(figures, webhookFigures({ apiserver: rolloutBefore, operator: operatorBefore }, { apiserver: rolloutAfter, operator: await operator.metrics() }, await floor.window()));
    figures.rollout_operator_requests = operatorRequests(rolloutAfter) - operatorRequests(rolloutBefore);
    figures.rollout_cpu_percent = Number((((cpuMicros(operator.pid) - cpuRollout) / ((performance.now() - rolloutStarted) * 1000)) * 100).toFixed(1));
    say(`fleet: rollout of ${optedIn.length} opted-in Deployments: ${figures.webhook_admissions} admissions, webhook p50 ${figures.webhook_p50_ms} ms, p99 ${figures.webhook_p99_ms} ms (apiserver histogram); operator sent ${figures.rollout_operator_requests} requests`);
    say(`fleet: ${describeWebhooks(figures)}`);
    const direct = await directCalls(floor, webhookCaPem, deploymentManifest(optedIn[0] as FleetDeployment), Math.max(optedIn.length, 50), PARALLEL_WRITES);
    figures.direct_noop_p50_ms = Number(percentile(direct, 50).toFixed(2));
    figures.direct_noop_p99_ms = Number(percentile(direct, 99).toFixed(2));
    say(`fleet: the bench's own ${direct.length} reviews to the no-op right after, ${PARALLEL_WRITES} at a time over kept-alive HTTPS: p50 ${figures.direct_noop_p50_ms} ms, p99 ${figures.direct_noop_p99_ms} ms`);
    await waitRolledOut(target, size.deployments, rolloutTimeout);
    await operatorSettled(operator, 300_000);
    figures.rollout_reconciles = await reconciled() - reconcilesBefore;
    const afterRollout = await footprint(operator);
    recordFootprint(figures, 'after_rollout', afterRollout);
    say(`fleet: memory after the rollout, after full collections: ${describeParts(afterRollout.parts)}`);
    phase('rollout_wait');

    await operator.stop();
    const restarted = performance.now();
    operator = await startOperator(kubeconfig, webhookPort, directory, logFile);
    const deadline = Date.now() + 300_000;
    while (sum(await operator.metrics(), 'badgateway_operator_reconciles_total') < policyCount || sum(await operator.metrics(), 'badgateway_operator_queue_depth') > 0) {
      if (Date.now() > deadline) throw new Error('after the restart the operator did not reconcile every policy within 300 s');
      await sleep(100);
    }
    figures.resync_ms = Math.round(performance.now() - restarted);
    const policies = await getJson<PolicyList>(target, policiesPath);
    figures.ready_after_restart = policies.items.filter(isReady).length;
    say(`fleet: operator restart: every policy reconciled in ${figures.resync_ms} ms; ${figures.ready_after_restart} of ${policyCount} Ready`);
    if (figures.ready_after_restart !== policyCount) throw new Error(`only ${figures.ready_after_restart} of ${policyCount} policies Ready after the restart`);
    phase('operator_restart');

    const firstTarget = targets[0];
    if (cluster.restartApiserver === undefined || firstTarget === undefined) {
      say('fleet: apiserver restart: skipped (the control plane is not the bench\'s own)');
      return figures;
    }
    Object.assign(figures, await restartUnderFleet({
      cluster: { ...cluster, restartApiserver: cluster.restartApiserver }, operator, webhook: { port: webhookPort, caPem: webhookCaPem },
      policy: { namespace: firstTarget.namespace, name: 'policy-0', target: firstTarget }, timeoutMs: 300_000,
    }, () => operatorSettled(operator, 300_000)));
    phase('apiserver_restart');
    say(`fleet: apiserver restart: away ${figures.apiserver_down_ms} ms; webhook answered ${figures.webhook_answered_during_restart} of ${figures.webhook_reviews_during_restart} reviews meanwhile; `
      + `a policy changed on its return Ready in ${figures.status_truthful_ms} ms; operator since the restart: ${figures.relists_after_restart} lists, ${figures.requests_after_restart} requests; Lease ${figures.leader_lost_during_restart === 1 ? 'lost' : 'kept'}`);
    return figures;
  } finally {
    await operator.stop();
    await floor?.stop();
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
// A worker node per 100 pods, as a kubelet's 110-pod limit needs, with room for half as many again:
// a rollout's surge (25 %) and the pods still terminating hold places too. With exactly a node per
// 100 the rollout of 1,000 Deployments at 2,000 / 500 left 785 pods Pending for want of places.
const nodes = Math.ceil((size.deployments * REPLICAS * 1.5) / 100) + 1;
const cluster = await connectCluster(size.kubeconfig, nodes, say);
const clusterStartSeconds = Math.round((Date.now() - started) / 1000);
// Interrupted: the control plane this run started goes with it (its processes run detached).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void (cluster.stop?.() ?? Promise.resolve()).finally(() => process.exit(130)));
}
let exitCode = 0;
try {
  const figures = await run(cluster, size);
  figures.phase_cluster_start_s = clusterStartSeconds;
  const phases = Object.entries(figures).filter(([name]) => name.startsWith('phase_')).map(([name, seconds]) => `${name.slice('phase_'.length, -'_s'.length)} ${seconds}`);
  say(`fleet: wall time ${Math.round((Date.now() - started) / 1000)} s, by phase (s): ${phases.join(', ')}`);
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

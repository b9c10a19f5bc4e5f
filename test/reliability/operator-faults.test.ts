/**
 * The BUILT operator (two replicas, leader election on) against the test API server while it
 * misbehaves: 500s and 429s for a while, watches dropped every few seconds, 410 Gone storms, and
 * two users writing the same policies at once. It must converge: exactly one ConfigMap per policy,
 * holding the last written page, none lost, none extra, and observedGeneration equal to generation.
 * Then the leader is killed mid-reconcile and the other replica must take over within the lease.
 *
 * Needs `badgateway operator` and startTestApiServer(); until both exist the tests fail with a
 * named list of what is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONFIG_KEY, configMapNameFor } from '../../api/names.js';
import type { KubeClients } from '../../operator/kube/clients.js';
import { eventually } from '../support/cli.js';
import {
  clientsFor, createAnnotatedDeployment, createNamespace, missingForOperatorTests, policyApi, startOperatorReplica,
  type OperatorReplica,
} from './operator-harness.js';
import { installPolicyCrd } from '../support/policy-crd.js';

const NAMESPACE = 'shop';
const POLICIES = ['web', 'api', 'cart'];
const FAULT_SECONDS = Number(process.env.BADGATEWAY_FAULT_SECONDS ?? 12);
/** Short leases so the takeover test is quick; flags as the chart passes them. */
const LEASE_ARGS = ['--lease-duration=4s', '--renew-deadline=3s', '--retry-period=500ms'];
/** Lease duration + retry period + a reconcile on a loaded machine. */
const TAKEOVER_MS = 4_000 + 500 + 5_000;
const CONVERGE_MS = 60_000;

interface ApiServer {
  kubeconfigPath: string;
  faults: { failNext(count: number, code?: 500 | 429): void; dropWatches(): void; expireResourceVersions(): void };
  post(path: string, body: unknown): Promise<number>;
  close(): Promise<void>;
}

let missing: string[] = [];
let api: ApiServer | undefined;
let clients: KubeClients;
const replicas: OperatorReplica[] = [];
const timers: NodeJS.Timeout[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function converged(name: string, page: string): Promise<boolean> {
  const policy = await policyApi(clients, NAMESPACE).get(name);
  if (policy.status?.observedGeneration !== policy.metadata.generation) return false;
  const configMap = await clients.core.readNamespacedConfigMap({ namespace: NAMESPACE, name: configMapNameFor(name) });
  return (configMap.data?.[CONFIG_KEY] ?? '').includes(page);
}

async function badgatewayConfigMaps(): Promise<string[]> {
  const list = await clients.core.listNamespacedConfigMap({ namespace: NAMESPACE });
  return list.items.map((item) => item.metadata?.name ?? '').filter((name) => name.startsWith('badgateway-')).sort();
}

beforeAll(async () => {
  missing = await missingForOperatorTests();
  if (missing.length > 0) return;
  const { startTestApiServer } = await import('../support/apiserver/index.js') as { startTestApiServer(): Promise<ApiServer> };
  api = await startTestApiServer();
  clients = clientsFor(api.kubeconfigPath);
  await installPolicyCrd(api);
  await createNamespace(clients, NAMESPACE);
  await createNamespace(clients, 'badgateway-system');
  for (const name of POLICIES) {
    await createAnnotatedDeployment(clients, NAMESPACE, name);
    await policyApi(clients, NAMESPACE).create(name, `<p>${name} v0</p>`);
  }
  replicas.push(await startOperatorReplica(api.kubeconfigPath, 'replica-a', LEASE_ARGS), await startOperatorReplica(api.kubeconfigPath, 'replica-b', LEASE_ARGS));
}, 60_000);

afterAll(async () => {
  for (const timer of timers) clearInterval(timer);
  for (const replica of replicas) replica.kill();
  await api?.close();
});

// Skipped, with one stderr line (jest drops console output of all-skipped files), until the operator exists.
const unavailable = await missingForOperatorTests();
if (unavailable.length > 0) process.stderr.write(`operator fault tests SKIPPED: ${unavailable.join('; ')}\n`);
const describeWithOperator = unavailable.length === 0 ? describe : describe.skip;

describeWithOperator('operator under API server faults (built code, 2 replicas)', () => {

  it('converges through 500/429 bursts, dropped watches, 410 storms and conflicting writers', async () => {
    if (missing.length > 0) throw new Error(`cannot run: ${missing.join('; ')}`);
    const server = api as ApiServer;
    await eventually(async () => (await Promise.all(POLICIES.map((name) => converged(name, `${name} v0`)))).every(Boolean), CONVERGE_MS, 'initial reconcile');

    const dropper = setInterval(() => server.faults.dropWatches(), 3_000);
    dropper.unref();
    timers.push(dropper);
    const deadline = Date.now() + FAULT_SECONDS * 1_000;
    const lastWritten = new Map<string, string>();
    let conflicts = 0;
    const writer = async (who: string) => {
      for (let round = 1; Date.now() < deadline; round += 1) {
        for (const name of POLICIES) {
          const page = `<p>${name} ${who}-${round}</p>`;
          try {
            await policyApi(clients, NAMESPACE).setPage(name, page);
            lastWritten.set(name, page);
          } catch (error) {
            const code = (error as { code?: number }).code;
            if (code === 409) conflicts += 1;
            else if (code !== 500 && code !== 429) throw error;
          }
        }
        await sleep(150);
      }
    };
    const storm = (async () => {
      while (Date.now() < deadline) {
        server.faults.failNext(15, 500);
        await sleep(1_000);
        server.faults.failNext(15, 429);
        await sleep(1_000);
        for (let burst = 0; burst < 5; burst += 1) {
          server.faults.expireResourceVersions();
          await sleep(100);
        }
        await sleep(1_000);
      }
    })();
    await Promise.all([writer('alice'), writer('bob'), storm]);
    clearInterval(dropper);
    console.log(`operator faults: ${conflicts} write conflicts between the two writers; last pages ${JSON.stringify(Object.fromEntries(lastWritten))}`);

    for (const name of POLICIES) {
      const page = lastWritten.get(name) ?? `${name} v0`;
      await eventually(() => converged(name, page), CONVERGE_MS, `${name} converges to ${page}`);
    }
    expect(await badgatewayConfigMaps()).toEqual(POLICIES.map((name) => configMapNameFor(name)).sort());
    for (const replica of replicas) expect(replica.child.exitCode).toBeNull();
  }, (FAULT_SECONDS + 4 * 60) * 1_000);

  it('a killed leader is replaced within the lease duration', async () => {
    if (missing.length > 0) throw new Error(`cannot run: ${missing.join('; ')}`);
    const leases = await clients.coordination.listLeaseForAllNamespaces();
    const held = leases.items.map((lease) => lease.spec?.holderIdentity ?? '');
    const leader = replicas.find((replica) => held.some((holder) => holder.includes(replica.identity)));
    if (leader === undefined) throw new Error(`no Lease names a replica (holders: ${JSON.stringify(held)}); the operator should use POD_NAME as its identity`);
    const survivor = replicas.find((replica) => replica !== leader) as OperatorReplica;

    // Mid-reconcile: a change lands and the leader dies right away.
    await policyApi(clients, NAMESPACE).setPage('web', '<p>web after the leader died</p>');
    leader.kill();
    const killedAt = Date.now();
    await eventually(() => converged('web', 'web after the leader died'), TAKEOVER_MS + 20_000, 'the survivor reconciles the change');
    console.log(`leader ${leader.identity} killed; ${survivor.identity} reconciled after ${Date.now() - killedAt} ms`);
    expect(Date.now() - killedAt).toBeLessThan(TAKEOVER_MS);
    const after = await clients.coordination.listLeaseForAllNamespaces();
    expect(after.items.some((lease) => (lease.spec?.holderIdentity ?? '').includes(survivor.identity))).toBe(true);
    expect(await badgatewayConfigMaps()).toEqual(POLICIES.map((name) => configMapNameFor(name)).sort());
  }, 90_000);
});

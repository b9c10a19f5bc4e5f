/* eslint-disable @typescript-eslint/no-explicit-any -- custom objects come back as untyped JSON */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { eventually } from '../../support/cli.js';
import { condition, deployment, getPolicy, policy, policyGroup, startHarness, type Harness } from './harness.js';

jest.setTimeout(60_000);

let harness: Harness;
beforeEach(async () => { harness = await startHarness(); });
afterEach(async () => { await harness.close(); });

const HASH = 'badgateway.io/policy-hash';
const stampOf = async (name: string): Promise<string | undefined> =>
  (await harness.clients.apps.readNamespacedDeployment({ name, namespace: 'default' })).spec?.template?.metadata?.annotations?.[HASH];

describe('targets through the API server', () => {
  it('is Ready only once every target runs the sidecar, and reports injected per target', async () => {
    const { clients } = harness;
    await clients.apps.createNamespacedDeployment({ namespace: 'default', body: deployment('web', { app: 'web' }) });
    await harness.start();
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('web', { selector: { matchLabels: { app: 'web' } } }) });
    await eventually(async () => condition(await getPolicy(clients, 'web'), 'Ready')?.reason === 'TargetsNotInjected', 20_000, 'Ready=False, not injected');
    const waiting = await getPolicy(clients, 'web');
    expect(condition(waiting, 'Ready')).toMatchObject({ status: 'False' });
    expect(condition(waiting, 'Ready').message).toContain('web');
    expect(waiting.status.targets).toEqual([{ kind: 'Deployment', name: 'web', injected: false, configured: false }]);
    expect(waiting.status.configured).toBe('0/1');

    // The webhook injected the sidecar (here: written directly).
    const stored = await clients.apps.readNamespacedDeployment({ name: 'web', namespace: 'default' });
    const injected = deployment('web', { app: 'web' }, { injected: true });
    await clients.apps.replaceNamespacedDeployment({ name: 'web', namespace: 'default', body: { ...stored, spec: { ...stored.spec!, template: { ...injected.spec!.template, metadata: stored.spec!.template.metadata! } } } });
    await eventually(async () => condition(await getPolicy(clients, 'web'), 'Ready')?.status === 'True', 20_000, 'Ready=True');
    expect((await getPolicy(clients, 'web')).status.targets).toEqual([{ kind: 'Deployment', name: 'web', injected: true, configured: true }]);
    // Racing our own writes (a cache one version behind) is not a failure.
    expect(harness.failures).toEqual([]);
  });

  it('stamps a target when its policy changes, not when the policy content changes, and un-stamps it when no policy claims it', async () => {
    const { clients } = harness;
    await clients.apps.createNamespacedDeployment({ namespace: 'default', body: deployment('web', { app: 'web' }, { injected: true }) });
    await harness.start();
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('web', { targetRef: { name: 'web' } }) });
    await eventually(async () => (await stampOf('web')) !== undefined, 20_000, 'stamped');
    const stamp = await stampOf('web');
    const generationBefore = (await clients.apps.readNamespacedDeployment({ name: 'web', namespace: 'default' })).metadata?.generation;

    const current: any = await getPolicy(clients, 'web');
    await clients.custom.replaceNamespacedCustomObject({ ...policyGroup, namespace: 'default', name: 'web', body: { ...current, spec: { targetRef: { name: 'web' }, timeouts: { response: '4s' } } } });
    await eventually(async () => {
      const after = await getPolicy(clients, 'web');
      return after.status?.observedGeneration === after.metadata.generation && after.metadata.generation > current.metadata.generation;
    }, 20_000, 'content change reconciled');
    expect(await stampOf('web')).toBe(stamp);
    expect((await clients.apps.readNamespacedDeployment({ name: 'web', namespace: 'default' })).metadata?.generation).toBe(generationBefore);

    // The policy stops matching (retargeted elsewhere): the Deployment is un-stamped, so it is re-rendered without it.
    const latest: any = await getPolicy(clients, 'web');
    await clients.custom.replaceNamespacedCustomObject({ ...policyGroup, namespace: 'default', name: 'web', body: { ...latest, spec: { targetRef: { name: 'other' } } } });
    await eventually(async () => (await stampOf('web')) === undefined, 20_000, 'un-stamped after retargeting');

    // Matching again stamps again; deleting the policy un-stamps.
    const again: any = await getPolicy(clients, 'web');
    await clients.custom.replaceNamespacedCustomObject({ ...policyGroup, namespace: 'default', name: 'web', body: { ...again, spec: { targetRef: { name: 'web' } } } });
    await eventually(async () => (await stampOf('web')) === stamp, 20_000, 'stamped again');
    await clients.custom.deleteNamespacedCustomObject({ ...policyGroup, namespace: 'default', name: 'web' });
    await eventually(async () => (await stampOf('web')) === undefined, 20_000, 'un-stamped after deletion');
  });

  it('makes no write at all when resyncing a settled policy', async () => {
    const { clients } = harness;
    const proxy = await harness.recordingProxy();
    await clients.apps.createNamespacedDeployment({ namespace: 'default', body: deployment('web', { app: 'web' }, { injected: true }) });
    await harness.start({ resyncPeriodMs: 200, clients: harness.clientsVia(proxy.url) });
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('web', { targetRef: { name: 'web' } }) });
    await eventually(async () => condition(await getPolicy(clients, 'web'), 'Ready')?.status === 'True', 20_000, 'Ready');
    const writes = (from: number) => proxy!.requests.slice(from).filter((request) => request.method !== 'GET').map((request) => `${request.method} ${request.path}`);
    expect(writes(0).length).toBeGreaterThan(0); // the recording sees the controller's writes
    // Let the writes of the first reconciles settle (their own watch events re-queue the policy once).
    const settledAt = harness.reconciles.length;
    await eventually(() => harness.reconciles.length >= settledAt + 3, 20_000, 'settling resyncs');
    const from = proxy.requests.length;
    const count = harness.reconciles.length;
    await eventually(() => harness.reconciles.length >= count + 5, 20_000, 'several resyncs');
    expect(writes(from)).toEqual([]);
  });
});

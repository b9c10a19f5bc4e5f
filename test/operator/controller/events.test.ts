import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { silentLogger } from '../../../api/logger.js';
import { createEventRecorder } from '../../../operator/controller/events.js';
import { eventually } from '../../support/cli.js';
import { condition, deployment, eventsAbout, getPolicy, policy, policyGroup, startHarness, type Harness } from './harness.js';

jest.setTimeout(60_000);

let harness: Harness;
beforeEach(async () => { harness = await startHarness(); });
afterEach(async () => { await harness.close(); });

const reasons = async (name: string): Promise<string[]> => (await eventsAbout(harness.clients, name)).map((event) => event.reason).sort();

describe('Kubernetes Events for notable transitions', () => {
  it('records accepted, rendered, injected, updated and rejected once each, regarding the policy', async () => {
    const { clients } = harness;
    await clients.apps.createNamespacedDeployment({ namespace: 'default', body: deployment('web', { app: 'web' }, { injected: true }) });
    // A short resync: every policy is reconciled again and again, which must not add Events.
    await harness.start({ resyncPeriodMs: 200 });
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('web', { targetRef: { name: 'web' } }) });
    await eventually(async () => (await reasons('web')).join() === 'Accepted,ConfigMapRendered,TargetInjected', 20_000, 'first events');

    const events = await eventsAbout(clients, 'web');
    const created = await getPolicy(clients, 'web');
    for (const event of events) {
      expect(event.regarding).toMatchObject({ apiVersion: 'badgateway.io/v1alpha1', kind: 'BadGatewayPolicy', name: 'web', namespace: 'default', uid: created.metadata.uid });
      expect(event.reason).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(event.note).not.toBe('');
      expect(event.reportingController).toBe('badgateway.io/operator');
      expect(event.type).toBe('Normal');
    }
    expect(events.find((event) => event.reason === 'ConfigMapRendered')?.note).toContain('badgateway-web');
    expect(events.find((event) => event.reason === 'TargetInjected')?.note).toContain('web');

    const settled = harness.reconciles.length;
    await eventually(() => harness.reconciles.length >= settled + 5, 20_000, 'several resyncs');
    expect(await reasons('web')).toEqual(['Accepted', 'ConfigMapRendered', 'TargetInjected']);

    await clients.custom.replaceNamespacedCustomObject({ ...policyGroup, namespace: 'default', name: 'web', body: { ...created, spec: { targetRef: { name: 'web' }, timeouts: { response: '3s' } } } });
    await eventually(async () => (await reasons('web')).includes('ConfigMapUpdated'), 20_000, 'ConfigMapUpdated');

    const current = await getPolicy(clients, 'web');
    await clients.custom.replaceNamespacedCustomObject({ ...policyGroup, namespace: 'default', name: 'web', body: { ...current, spec: { timeouts: { response: '30s' }, circuitBreaker: { resetTimeout: '1s' } } } });
    await eventually(async () => (await reasons('web')).includes('InvalidSpec'), 20_000, 'InvalidSpec warning');
    const warning = (await eventsAbout(clients, 'web')).find((event) => event.reason === 'InvalidSpec');
    expect(warning).toMatchObject({ type: 'Warning' });
    expect(warning?.note).toContain('spec.circuitBreaker.resetTimeout');

    const count = (await eventsAbout(clients, 'web')).length;
    const before = harness.reconciles.length;
    await eventually(() => harness.reconciles.length >= before + 5, 20_000, 'several resyncs of the rejected policy');
    expect(await eventsAbout(clients, 'web')).toHaveLength(count);
  });

  it('records a Conflicted warning on the younger policy naming the winner', async () => {
    const { clients } = harness;
    await clients.apps.createNamespacedDeployment({ namespace: 'default', body: deployment('shop', { app: 'shop' }) });
    await harness.start();
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('first', { targetRef: { name: 'shop' } }) });
    await eventually(async () => condition(await getPolicy(clients, 'first'), 'Accepted')?.status === 'True', 20_000, 'first accepted');
    await new Promise((resolve) => setTimeout(resolve, 1_100)); // creationTimestamp has second resolution
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('second', { selector: { matchLabels: { app: 'shop' } } }) });
    await eventually(async () => (await reasons('second')).includes('Conflicted'), 20_000, 'Conflicted event');
    const conflicted = (await eventsAbout(clients, 'second')).find((event) => event.reason === 'Conflicted');
    expect(conflicted).toMatchObject({ type: 'Warning' });
    expect(conflicted?.note).toContain('first');
    expect(await reasons('first')).not.toContain('Conflicted');
  });
});

describe('event recorder', () => {
  it('creates an identical event once per dedup window, and again after it', async () => {
    const { clients } = harness;
    let now = new Date('2026-01-01T00:00:00Z');
    const recorder = createEventRecorder({ clients, logger: silentLogger(), reportingInstance: 'test', dedupWindowMs: 60_000, now: () => now });
    const regarding = { apiVersion: 'v1', kind: 'ConfigMap', name: 'thing', namespace: 'default' };
    recorder.record(regarding, 'Normal', 'Something', 'it happened');
    recorder.record(regarding, 'Normal', 'Something', 'it happened');
    recorder.record(regarding, 'Normal', 'Something', 'it happened differently');
    await recorder.drained();
    expect((await eventsAbout(clients, 'thing')).map((event) => event.note).sort()).toEqual(['it happened', 'it happened differently']);
    now = new Date(now.getTime() + 61_000);
    recorder.record(regarding, 'Normal', 'Something', 'it happened');
    await recorder.drained();
    expect(await eventsAbout(clients, 'thing')).toHaveLength(3);
  });

  it('never throws when the API server refuses the event, and records it the next time', async () => {
    const recorder = createEventRecorder({ clients: harness.clients, logger: silentLogger(), reportingInstance: 'test' });
    const regarding = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', namespace: 'default' };
    harness.server.faults.failNext(1, 500);
    expect(() => recorder.record(regarding, 'Warning', 'Failed', 'no')).not.toThrow();
    await expect(recorder.drained()).resolves.toBeUndefined();
    expect(await eventsAbout(harness.clients, 'x')).toHaveLength(0);
    recorder.record(regarding, 'Warning', 'Failed', 'no');
    await recorder.drained();
    expect(await eventsAbout(harness.clients, 'x')).toHaveLength(1);
  });

  it('returns at once while the Events endpoint is held, and drops what overflows its queue', async () => {
    const recorder = createEventRecorder({ clients: harness.clients, logger: silentLogger(), reportingInstance: 'test', maxQueued: 2 });
    const release = harness.server.faults.hold('POST', /\/events$/);
    const regarding = { apiVersion: 'v1', kind: 'ConfigMap', name: 'queued', namespace: 'default' };
    for (const note of ['one', 'two', 'three']) recorder.record(regarding, 'Normal', 'Something', note);
    release();
    await recorder.drained();
    expect((await eventsAbout(harness.clients, 'queued')).map((event) => event.note).sort()).toEqual(['one', 'two']);
  });
});

describe('Events off the reconcile\'s path', () => {
  it('makes a policy Ready while the Events endpoint does not answer, and records its Events after', async () => {
    const { clients } = harness;
    await clients.apps.createNamespacedDeployment({ namespace: 'default', body: deployment('slow', { app: 'slow' }, { injected: true }) });
    const release = harness.server.faults.hold('POST', /\/events$/);
    await harness.start();
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('slow', { targetRef: { name: 'slow' } }) });
    try {
      await eventually(async () => condition(await getPolicy(clients, 'slow'), 'Ready')?.status === 'True', 20_000, 'Ready while Events are held');
      expect(await reasons('slow')).toEqual([]);
    } finally {
      release();
    }
    await eventually(async () => (await reasons('slow')).join() === 'Accepted,ConfigMapRendered,TargetInjected', 20_000, 'the held events');
  });
});

import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { eventually } from '../../support/cli.js';
import { condition, deployment, eventsAbout, getPolicy, policy, policyGroup, startHarness, type Harness } from './harness.js';

jest.setTimeout(60_000);

let harness: Harness;
beforeEach(async () => { harness = await startHarness(); });
afterEach(async () => { await harness.close(); });

const service = (targetPort: number | string) => ({
  metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: targetPort as never }] },
});

describe('bypass detection through the API server', () => {
  it('lists a Service targeting the app port by number, then clears it when it targets the name', async () => {
    const { clients } = harness;
    await clients.apps.createNamespacedDeployment({ namespace: 'default', body: deployment('web', { app: 'web' }, { injected: true }) });
    await clients.core.createNamespacedService({ namespace: 'default', body: service(8080) });
    // No resync during the test: only the Service watch can bring the change in.
    await harness.start();
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('web', { targetRef: { name: 'web' } }) });

    await eventually(async () => condition(await getPolicy(clients, 'web'), 'Degraded')?.status === 'True', 20_000, 'Degraded=True');
    const degraded = await getPolicy(clients, 'web');
    expect(degraded.status.bypassingServices).toEqual([expect.objectContaining({ name: 'web', port: 8080 })]);
    expect(condition(degraded, 'Degraded')).toMatchObject({ reason: 'ServiceBypassesSidecar' });
    expect(condition(degraded, 'Degraded').message).toContain('targetPort: http');
    await eventually(async () => (await eventsAbout(clients, 'web')).some((event) => event.reason === 'BypassDetected'), 20_000, 'BypassDetected event');
    const warning = (await eventsAbout(clients, 'web')).find((event) => event.reason === 'BypassDetected');
    expect(warning).toMatchObject({ type: 'Warning' });
    expect(warning?.note).toContain('targetPort: http');

    const current = await clients.core.readNamespacedService({ name: 'web', namespace: 'default' });
    await clients.core.replaceNamespacedService({ name: 'web', namespace: 'default', body: { ...current, spec: { ...current.spec, ports: [{ port: 80, targetPort: 'http' as never }] } } });
    await eventually(async () => condition(await getPolicy(clients, 'web'), 'Degraded')?.status === 'False', 20_000, 'Degraded=False');
    expect((await getPolicy(clients, 'web')).status.bypassingServices).toEqual([]);
    await eventually(async () => (await eventsAbout(clients, 'web')).some((event) => event.reason === 'BypassResolved'), 20_000, 'BypassResolved event');

    // A new numeric Service appears later: detected again without any policy or Deployment change.
    await clients.core.createNamespacedService({ namespace: 'default', body: { ...service(8080), metadata: { name: 'web-direct', namespace: 'default' } } });
    await eventually(async () => (await getPolicy(clients, 'web')).status.bypassingServices?.[0]?.name === 'web-direct', 20_000, 'new bypass detected');
  });

  it('treats a targetPort naming the app\'s renamed port as a bypass, and hints the sidecar\'s port', async () => {
    const { clients } = harness;
    await clients.apps.createNamespacedDeployment({ namespace: 'default', body: deployment('web', { app: 'web' }, { injected: true }) });
    // Following the old hint (the app's port name after injection, http-app) must not turn Degraded off.
    await clients.core.createNamespacedService({ namespace: 'default', body: service('http-app') });
    await harness.start();
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('web', { targetRef: { name: 'web' } }) });
    await eventually(async () => condition(await getPolicy(clients, 'web'), 'Degraded')?.status === 'True', 20_000, 'Degraded=True');
    const message = condition(await getPolicy(clients, 'web'), 'Degraded').message as string;
    expect(message).toContain('targets http-app, the app\'s own port (8080)');
    expect(message).toContain('use targetPort: http (the sidecar\'s port)');

    const current = await clients.core.readNamespacedService({ name: 'web', namespace: 'default' });
    await clients.core.replaceNamespacedService({ name: 'web', namespace: 'default', body: { ...current, spec: { ...current.spec, ports: [{ port: 80, targetPort: 'http' as never }] } } });
    await eventually(async () => condition(await getPolicy(clients, 'web'), 'Degraded')?.status === 'False', 20_000, 'Degraded=False through the sidecar');
  });
});

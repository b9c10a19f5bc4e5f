import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { eventually } from '../../support/cli.js';
import { condition, deployment, getPolicy, policy, policyGroup, startHarness, type Harness } from './harness.js';

jest.setTimeout(60_000);

let harness: Harness;
beforeEach(async () => { harness = await startHarness(); });
afterEach(async () => { await harness.close(); });

describe('--namespace scoping', () => {
  it('reconciles only the policies of its namespace, with namespaced list and watch requests only', async () => {
    const { clients } = harness;
    const proxy = await harness.recordingProxy();
    for (const namespace of ['team-a', 'team-b']) {
      await clients.core.createNamespace({ body: { metadata: { name: namespace } } });
      await clients.apps.createNamespacedDeployment({ namespace, body: deployment('web', { app: 'web' }, { namespace }) });
      await clients.core.createNamespacedService({ namespace, body: { metadata: { name: 'web', namespace }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 as never }] } } });
      await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace, body: policy('web', { targetRef: { name: 'web' } }, namespace) });
    }
    const controller = await harness.start({ namespace: 'team-a', clients: harness.clientsVia(proxy.url), resyncPeriodMs: 200 });
    await eventually(async () => condition(await getPolicy(clients, 'web', 'team-a'), 'Accepted')?.status === 'True', 20_000, 'team-a reconciled');
    await clients.core.readNamespacedConfigMap({ name: 'badgateway-web', namespace: 'team-a' });
    const count = harness.reconciles.length;
    await eventually(() => harness.reconciles.length >= count + 3, 20_000, 'a few resyncs');
    await controller.idle();

    expect(new Set(harness.reconciles)).toEqual(new Set(['team-a/web']));
    expect((await getPolicy(clients, 'web', 'team-b')).status).toBeUndefined();
    await expect(clients.core.readNamespacedConfigMap({ name: 'badgateway-web', namespace: 'team-b' })).rejects.toMatchObject({ code: 404 });
    const teamB = await clients.apps.readNamespacedDeployment({ name: 'web', namespace: 'team-b' });
    expect(teamB.spec?.template?.metadata?.annotations?.['badgateway.io/policy-hash']).toBeUndefined();

    // Every request names the namespace: a namespaced Role would be enough.
    const outside = proxy.requests.filter((request) => !request.path.includes('/namespaces/team-a/'));
    expect(outside.map((request) => `${request.method} ${request.path}`)).toEqual([]);
    const watched = new Set(proxy.requests.filter((request) => request.watch).map((request) => request.path));
    expect(watched).toEqual(new Set([
      '/apis/badgateway.io/v1alpha1/namespaces/team-a/badgatewaypolicies',
      '/apis/apps/v1/namespaces/team-a/deployments',
      '/api/v1/namespaces/team-a/services',
      '/api/v1/namespaces/team-a/configmaps',
    ]));
  });
});

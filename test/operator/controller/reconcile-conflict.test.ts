/* eslint-disable @typescript-eslint/no-explicit-any -- custom objects come back as untyped JSON */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { silentLogger } from '../../../api/logger.js';
import { reconcilePolicy, type PolicyObject, type ReconcileContext } from '../../../operator/controller/reconcile.js';
import { getPolicy, policy, policyGroup, startHarness, type Harness } from './harness.js';

jest.setTimeout(60_000);

let harness: Harness;
beforeEach(async () => { harness = await startHarness(); });
afterEach(async () => { await harness.close(); });

describe('reconcile with a cache one version behind', () => {
  it('treats the status write conflict as "wait for the watch", not as a failure, and records no transition', async () => {
    const { clients } = harness;
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('web', {}) });
    const stale: PolicyObject = await getPolicy(clients, 'web');
    // Someone (e.g. our previous reconcile) wrote the status since the cache saw the policy.
    await clients.custom.replaceNamespacedCustomObjectStatus({ ...policyGroup, namespace: 'default', name: 'web', body: { ...stale, status: { configMap: 'badgateway-web' } } });
    const recorded: string[] = [];
    const context: ReconcileContext = {
      clients, logger: silentLogger(), now: () => new Date(),
      caches: { policies: () => [stale], deployments: () => [], services: () => [], ownedConfigMap: () => undefined, pageData: () => undefined },
      events: { record: (_regarding, _type, reason) => { recorded.push(reason); }, drained: async () => {} },
      trackPages: async () => undefined,
    };
    await expect(reconcilePolicy(context, 'default', 'web')).resolves.toBeUndefined();
    expect(recorded).toEqual(['ConfigMapRendered']);
    const current: any = await getPolicy(clients, 'web');
    expect(current.status).toEqual({ configMap: 'badgateway-web' });

    // With the fresh version the same reconcile writes the status and records the transition.
    await reconcilePolicy({ ...context, caches: { ...context.caches, policies: () => [current] } }, 'default', 'web');
    expect(recorded).toEqual(['ConfigMapRendered', 'Accepted']);
  });
});

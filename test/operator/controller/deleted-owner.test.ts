/**
 * A reconcile working from a cache that still holds a just-deleted policy must not re-create its
 * ConfigMap (seen after deleting several policies in one command): the owner is checked live.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { writeConfigMap } from '../../../operator/controller/config-map.js';
import type { PolicyObject } from '../../../operator/controller/reconcile.js';
import { getPolicy, policy, policyGroup, startHarness, type Harness } from './harness.js';

jest.setTimeout(60_000);

let harness: Harness;
beforeEach(async () => { harness = await startHarness(); });
afterEach(async () => { await harness.close(); });

const configMapExists = async (name: string): Promise<boolean> =>
  (await harness.clients.core.readNamespacedConfigMap({ name, namespace: 'default' }).catch(() => undefined)) !== undefined;

describe('the rendered ConfigMap of a deleted policy', () => {
  it('is not re-created from a stale copy of the policy, nor for a namesake with another uid', async () => {
    const { clients } = harness;
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('gone', {}) });
    const stale: PolicyObject = await getPolicy(clients, 'gone');
    await clients.custom.deleteNamespacedCustomObject({ ...policyGroup, namespace: 'default', name: 'gone' });

    expect(await writeConfigMap(clients, undefined, stale, '{}\n')).toBe('ownerGone');
    expect(await configMapExists('badgateway-gone')).toBe(false);

    // Re-created under the same name: a new uid, so the stale copy still owns nothing.
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('gone', {}) });
    expect(await writeConfigMap(clients, undefined, stale, '{}\n')).toBe('ownerGone');
    expect(await configMapExists('badgateway-gone')).toBe(false);

    const live: PolicyObject = await getPolicy(clients, 'gone');
    expect(await writeConfigMap(clients, undefined, live, '{}\n')).toBe('created');
    expect(await configMapExists('badgateway-gone')).toBe(true);
  });
});

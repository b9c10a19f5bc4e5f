/**
 * The CRD generated from the one schema, judged by kube-apiserver itself: accepted as a structural
 * schema, its defaults applied by the server, and invalid policies refused with the field named —
 * the same fields api/validate.ts names, so a user meets one wording whether kubectl or the
 * operator finds the mistake.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CLUSTER_START_TIMEOUT_MS, clusterRequest, sharedCluster, type Cluster } from '../support/cluster.js';
import { createNamespace, deleteNamespace } from '../support/cluster-objects.js';
import { ensurePolicyCrd } from '../support/policy-crd.js';

let cluster: Cluster;
let namespace: string;

beforeAll(async () => {
  cluster = await sharedCluster();
  await ensurePolicyCrd(cluster);
  namespace = await createNamespace(cluster, 'crd');
}, CLUSTER_START_TIMEOUT_MS);
afterAll(async () => { await deleteNamespace(cluster, namespace); });

const create = (name: string, spec: Record<string, unknown>) => clusterRequest(cluster, 'POST', `/apis/badgateway.io/v1alpha1/namespaces/${namespace}/badgatewaypolicies`, {
  apiVersion: 'badgateway.io/v1alpha1', kind: 'BadGatewayPolicy', metadata: { name }, spec,
});

describe('the BadGatewayPolicy CRD on kube-apiserver', () => {
  it('is Established, and the server fills in the schema\'s defaults', async () => {
    const created = await create('defaults', {});
    expect(created.status).toBe(201);
    expect(created.body.spec).toMatchObject({ openStatus: 502, timeouts: { connect: '1s' }, overload: { mode: 'off', limit: 'adaptive' } });
  });

  it.each([
    ['a fixed limit', { overload: { limit: 50 } }],
    ['the adaptive limit', { overload: { limit: 'adaptive' } }],
  ])('accepts %s', async (_what, spec) => {
    expect((await create(`ok-${Math.random().toString(16).slice(2, 8)}`, spec)).status).toBe(201);
  });

  it.each([
    ['spec.openStatus', { openStatus: 404 }],
    ['spec.overload.limit', { overload: { limit: 0 } }],
    ['spec.overload.limit', { overload: { limit: 'fast' } }],
    ['spec.overload.mode', { overload: { mode: 'sometimes' } }],
    ['spec.circuitBreaker.errorThresholdPercentage', { circuitBreaker: { errorThresholdPercentage: 101 } }],
  ])('refuses an invalid %s, naming it', async (field, spec) => {
    const refused = await create(`bad-${Math.random().toString(16).slice(2, 8)}`, spec);
    expect(refused.status).toBe(422);
    expect(refused.body.message).toContain(field);
  });
});

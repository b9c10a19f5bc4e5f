/**
 * Which Deployment updates re-queue its policies: a new generation, labels or a badgateway.io
 * annotation; not the controller-manager's revision annotation, which follows every rollout.
 */
import { describe, expect, it } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { trackDeploymentChanges } from '../../../operator/controller/deployment-changes.js';

const deployment = (generation: number, labels: Record<string, string>, annotations: Record<string, string>): V1Deployment => ({
  metadata: { namespace: 'shop', name: 'web', generation, labels, annotations },
});

describe('the Deployment change fingerprint', () => {
  it('ignores the revision annotation and other annotations the controller does not read', () => {
    const changes = trackDeploymentChanges();
    expect(changes.changed(deployment(2, { app: 'web' }, { 'deployment.kubernetes.io/revision': '1' }))).toBe(true);
    expect(changes.changed(deployment(2, { app: 'web' }, { 'deployment.kubernetes.io/revision': '2' }))).toBe(false);
    expect(changes.changed(deployment(2, { app: 'web' }, { 'deployment.kubernetes.io/revision': '2', 'example.com/owner': 'team-a' }))).toBe(false);
  });

  it('sees a new generation, a label and each badgateway.io annotation', () => {
    const changes = trackDeploymentChanges();
    expect(changes.changed(deployment(1, { app: 'web' }, {}))).toBe(true);
    expect(changes.changed(deployment(2, { app: 'web' }, {}))).toBe(true);
    expect(changes.changed(deployment(2, { app: 'web', tier: 'front' }, {}))).toBe(true);
    expect(changes.changed(deployment(2, { app: 'web', tier: 'front' }, { 'badgateway.io/inject': 'true' }))).toBe(true);
    expect(changes.changed(deployment(2, { app: 'web', tier: 'front' }, { 'badgateway.io/inject': 'true', 'badgateway.io/policy': 'edge' }))).toBe(true);
    expect(changes.changed(deployment(2, { app: 'web', tier: 'front' }, { 'badgateway.io/inject': 'true', 'badgateway.io/policy': 'edge' }))).toBe(false);
  });

  it('starts over for a Deployment it was told to forget', () => {
    const changes = trackDeploymentChanges();
    const web = deployment(1, {}, {});
    expect(changes.changed(web)).toBe(true);
    changes.forget(web);
    expect(changes.changed(web)).toBe(true);
  });
});

import { describe, expect, it } from '@jest/globals';
import { claimingPolicies, effectivePolicyName, policyTargets, selectorMatches } from '../../../operator/inject/policy-match.js';
import { deployment } from '../../support/fixtures/deployments.js';

const web = deployment('web', { containers: [{ name: 'web', image: 'x' }] });
web.spec!.template.metadata!.labels = { app: 'web', tier: 'front' };
const policy = (name: string, spec: object, created = '2026-01-01T00:00:00Z', namespace = 'shop') => ({ metadata: { name, namespace, creationTimestamp: created }, spec });

describe('policy matching', () => {
  it('matches targetRef by name and selector against pod template labels', () => {
    expect(policyTargets(policy('a', { targetRef: { kind: 'Deployment', name: 'web' } }), web)).toBe(true);
    expect(policyTargets(policy('a', { targetRef: { name: 'api' } }), web)).toBe(false);
    expect(policyTargets(policy('a', { selector: { matchLabels: { app: 'web' } } }), web)).toBe(true);
    expect(policyTargets(policy('a', { selector: { matchLabels: { app: 'api' } } }), web)).toBe(false);
    expect(policyTargets(policy('a', { selector: {} }), web)).toBe(false);
    expect(policyTargets(policy('a', { targetRef: { name: 'web' } }, undefined, 'other'), web)).toBe(false);
  });

  it.each([
    [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'edge'] }] }, true],
    [{ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['front'] }] }, false],
    [{ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    [{ matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }, true],
    [{ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'canary', operator: 'Exists' }] }, false],
  ] as const)('set-based selector %j → %p', (selector, expected) => {
    expect(selectorMatches(selector as never, { app: 'web', tier: 'front' })).toBe(expected);
  });

  it('the oldest claiming policy wins; the annotation outranks targeting', () => {
    const policies = [
      policy('young', { selector: { matchLabels: { app: 'web' } } }, '2026-03-01T00:00:00Z'),
      policy('old', { targetRef: { name: 'web' } }, '2026-02-01T00:00:00Z'),
      policy('unrelated', { targetRef: { name: 'api' } }, '2025-01-01T00:00:00Z'),
    ];
    expect(claimingPolicies(policies, web).map((p) => p.metadata.name)).toEqual(['old', 'young']);
    expect(effectivePolicyName(policies, web)).toBe('old');
    const annotated = structuredClone(web);
    annotated.metadata!.annotations = { 'badgateway.io/policy': 'young' };
    expect(effectivePolicyName(policies, annotated)).toBe('young');
  });
});

import { describe, expect, it } from '@jest/globals';
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { createClaimsIndex } from '../../../operator/controller/claims-index.js';
import { mergeConditions } from '../../../operator/controller/conditions.js';
import { renderPolicy } from '../../../operator/controller/render.js';
import { bypassingServices } from '../../../operator/controller/bypass.js';
import { isInjected } from '../../../operator/controller/target-state.js';
import { resolveTargets } from '../../../operator/controller/targets.js';
import { validateSidecarConfig } from '../../../api/validate.js';

describe('conditions', () => {
  it('moves lastTransitionTime only when the status flips', () => {
    const t1 = new Date('2026-01-01T00:00:00Z');
    const t2 = new Date('2026-01-02T00:00:00Z');
    const first = mergeConditions(undefined, [{ type: 'Ready', status: 'True', reason: 'Rendered', message: 'ok' }], 1, () => t1);
    const same = mergeConditions(first, [{ type: 'Ready', status: 'True', reason: 'Rendered', message: 'still ok' }], 2, () => t2);
    expect(same[0]).toMatchObject({ lastTransitionTime: t1.toISOString(), observedGeneration: 2, message: 'still ok' });
    const flipped = mergeConditions(same, [{ type: 'Ready', status: 'False', reason: 'InvalidSpec', message: 'bad' }], 3, () => t2);
    expect(flipped[0]?.lastTransitionTime).toBe(t2.toISOString());
  });
});

describe('renderPolicy', () => {
  const none = () => undefined;
  it('drops targeting, applies defaults and produces a valid sidecar config', () => {
    const result = renderPolicy({ targetRef: { name: 'web' }, timeouts: { response: '5s' } }, 'default', none);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const config = JSON.parse(result.json);
    expect(config.targetRef).toBeUndefined();
    expect(config.timeouts.response).toBe('5s');
    expect(config.circuitBreaker.resetTimeout).toBe('15s');
    expect(renderPolicy({ timeouts: { response: '5s' }, targetRef: { name: 'other' } }, 'default', none)).toMatchObject({ hash: result.hash });
  });
  it('renders the overload section, defaults filled, for the sidecar to read back', () => {
    const result = renderPolicy({ overload: { mode: 'enforce', limit: 40, queue: { size: 0 }, priorityPaths: ['/ping'] } }, 'default', none);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(JSON.parse(result.json).overload).toEqual({
      mode: 'enforce',
      limit: 40,
      queue: { size: 0, timeout: '250ms', target: '5ms', interval: '100ms', order: 'adaptive-lifo' },
      adaptive: { minLimit: 3, maxLimit: 1000, smoothing: 0.2, minRttInterval: '60s' },
      priorityPaths: ['/ping'],
    });
    expect(validateSidecarConfig(JSON.parse(result.json)).ok).toBe(true);
    const bad = renderPolicy({ overload: { adaptive: { minLimit: 9, maxLimit: 4 } } }, 'default', none);
    expect(bad).toMatchObject({ ok: false, reason: 'InvalidSpec' });
    if (!bad.ok) expect(bad.message).toContain('spec.overload.adaptive.minLimit');
  });
  it('names the field of a semantic problem', () => {
    const result = renderPolicy({ timeouts: { response: '30s' }, circuitBreaker: { resetTimeout: '1s' } }, 'default', none);
    expect(result).toMatchObject({ ok: false, reason: 'InvalidSpec' });
    if (!result.ok) expect(result.message).toContain('spec.circuitBreaker.resetTimeout');
  });
  it('inlines configMapRef pages and reports missing or oversized ones', () => {
    const spec = { errorPages: [{ status: 502, configMapRef: { name: 'pages', key: 'p.html' } }] };
    const found = renderPolicy(spec, 'default', (ns, name) => (ns === 'default' && name === 'pages' ? { 'p.html': '<b>down</b>' } : undefined));
    expect(found.ok && JSON.parse(found.json).errorPages[0].body).toBe('<b>down</b>');
    expect(renderPolicy(spec, 'default', none)).toMatchObject({ ok: false, reason: 'PageNotFound', referencedConfigMaps: ['pages'] });
    expect(renderPolicy(spec, 'default', () => ({ other: 'x' }))).toMatchObject({ ok: false, reason: 'PageNotFound' });
    const huge = renderPolicy(spec, 'default', () => ({ 'p.html': 'x'.repeat(64 * 1024 + 1) }));
    expect(huge).toMatchObject({ ok: false, reason: 'PageTooLarge' });
    if (!huge.ok) expect(huge.message).toContain('spec.errorPages[0]');
  });
});

const deployment = (name: string, labels: Record<string, string>, containers: Array<{ name: string; ports?: Array<{ containerPort: number; name?: string }> }> = [{ name: 'app', ports: [{ containerPort: 8080, name: 'http' }] }]): V1Deployment => ({
  metadata: { name, namespace: 'default' },
  spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: containers.map((c) => ({ image: 'i', ...c })) } } },
});
const policy = (name: string, created: string, spec: object) => ({ metadata: { name, namespace: 'default', creationTimestamp: created }, spec });

describe('targets', () => {
  it('gives a contested Deployment to the oldest policy, then by name', () => {
    const old = policy('b-old', '2026-01-01T00:00:00Z', { selector: { matchLabels: { app: 'shop' } } });
    const young = policy('a-young', '2026-01-02T00:00:00Z', { targetRef: { name: 'shop' } });
    const shop = deployment('shop', { app: 'shop' });
    expect(resolveTargets(old, [old, young], [shop]).won.map((d) => d.metadata?.name)).toEqual(['shop']);
    expect(resolveTargets(young, [old, young], [shop]).lost).toEqual([{ deployment: 'shop', winner: 'b-old' }]);
    const twin = policy('a-twin', '2026-01-01T00:00:00Z', { targetRef: { name: 'shop' } });
    expect(resolveTargets(old, [old, twin], [shop]).lost[0]?.winner).toBe('a-twin');
  });
  it('counts a Deployment annotated with the policy name as a target', () => {
    const p = policy('named', '2026-01-01T00:00:00Z', {});
    const annotated = { ...deployment('x', { app: 'x' }), metadata: { name: 'x', namespace: 'default', annotations: { 'badgateway.io/policy': 'named' } } };
    expect(resolveTargets(p, [p], [annotated, deployment('y', { app: 'y' })]).won.map((d) => d.metadata?.name)).toEqual(['x']);
  });
  it('detects injection in containers or initContainers', () => {
    expect(isInjected(deployment('a', {}))).toBe(false);
    expect(isInjected(deployment('a', {}, [{ name: 'app' }, { name: 'badgateway' }]))).toBe(true);
    const native = deployment('a', {});
    native.spec!.template.spec!.initContainers = [{ name: 'badgateway', image: 'i' }];
    expect(isInjected(native)).toBe(true);
  });
  it('flags Services that target the app port by number, and tells how to fix it', () => {
    const shop = deployment('shop', { app: 'shop' });
    const service = (name: string, targetPort: number | string): V1Service => ({ metadata: { name, namespace: 'default' }, spec: { selector: { app: 'shop' }, ports: [{ port: 80, targetPort: targetPort as never }] } });
    const found = bypassingServices(shop, [service('numeric', 8080), service('named', 'http'), { ...service('other', 8080), spec: { selector: { app: 'else' }, ports: [{ port: 80, targetPort: 8080 as never }] } }]);
    expect(found.map((item) => item.name)).toEqual(['numeric']);
    expect(found[0]?.message).toContain('targetPort: http');
  });
});

describe('claims index', () => {
  const dep = (name: string, labels: Record<string, string>, annotations: Record<string, string> = {}): V1Deployment => ({
    metadata: { name, namespace: 'shop', annotations },
    spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [] } } },
  });
  const pol = (name: string, spec: Record<string, unknown>) => ({ metadata: { name, namespace: 'shop' }, spec });

  it('names the claimants of now and of before a change, and follows policies as they change', () => {
    const index = createClaimsIndex();
    const bySelector = pol('by-selector', { selector: { matchLabels: { app: 'web' } } });
    const byRef = pol('by-ref', { targetRef: { name: 'web' } });
    const other = pol('other', { targetRef: { name: 'api' } });
    const web = dep('web', { app: 'web' });
    index.policyChanged(bySelector, [web]);
    index.policyChanged(byRef, [web]);
    index.policyChanged(other, [web]);
    expect(index.claimants('shop', 'web').sort()).toEqual(['by-ref', 'by-selector']);

    // Its labels change: the selector policy no longer claims it, but must hear of the change.
    const relabelled = dep('web', { app: 'shop' });
    expect(index.deploymentChanged(relabelled, [bySelector, byRef, other]).sort()).toEqual(['by-ref', 'by-selector']);
    expect(index.claimants('shop', 'web')).toEqual(['by-ref']);

    // The annotation names a policy that does not target it.
    expect(index.deploymentChanged(dep('web', { app: 'shop' }, { 'badgateway.io/policy': 'other' }), [bySelector, byRef, other]).sort()).toEqual(['by-ref', 'other']);
    index.policyDeleted(other, [relabelled]);
    expect(index.claimants('shop', 'web')).toEqual(['by-ref']);
    expect(index.deploymentDeleted(relabelled)).toEqual(['by-ref']);
    expect(index.claimants('shop', 'web')).toEqual([]);
  });
});

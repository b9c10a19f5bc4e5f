import { describe, expect, it } from '@jest/globals';
import type { PolicyStatus } from '../../../api/status.js';
import { statusTransitionEvents } from '../../../operator/controller/transitions.js';

const at = '2026-01-01T00:00:00Z';
const status = (overrides: { accepted?: ['True' | 'False', string, string]; conflicted?: string; injected?: boolean; bypass?: string[] }): PolicyStatus => ({
  conditions: [
    { type: 'Accepted', status: overrides.accepted?.[0] ?? 'True', reason: overrides.accepted?.[1] ?? 'Accepted', message: overrides.accepted?.[2] ?? 'ok', lastTransitionTime: at },
    { type: 'Conflicted', status: overrides.conflicted === undefined ? 'False' : 'True', reason: 'X', message: overrides.conflicted ?? 'none', lastTransitionTime: at },
  ],
  targets: overrides.injected === undefined ? [] : [{ kind: 'Deployment', name: 'web', injected: overrides.injected }],
  bypassingServices: (overrides.bypass ?? []).map((name) => ({ name, port: 8080, message: `Service ${name} bypasses` })),
});
const reasons = (before: PolicyStatus | undefined, after: PolicyStatus): string[] => statusTransitionEvents(before, after).map((event) => `${event.type}:${event.reason}`);

describe('events from status transitions', () => {
  it('reports nothing when nothing changed', () => {
    const settled = status({ injected: true, bypass: ['a'], conflicted: 'taken by old' });
    expect(reasons(settled, settled)).toEqual([]);
  });
  it('reports acceptance, rejection and a different rejection', () => {
    expect(reasons(undefined, status({}))).toEqual(['Normal:Accepted']);
    const rejected = status({ accepted: ['False', 'InvalidSpec', 'spec.timeouts.response: bad'] });
    expect(reasons(status({}), rejected)).toEqual(['Warning:InvalidSpec']);
    expect(reasons(rejected, status({ accepted: ['False', 'PageNotFound', 'spec.errorPages[0]: missing'] }))).toEqual(['Warning:PageNotFound']);
    expect(reasons(rejected, status({}))).toEqual(['Normal:Accepted']);
  });
  it('reports a conflict, injection, and bypasses appearing and resolving', () => {
    expect(reasons(status({}), status({ conflicted: 'Deployment web is governed by the older policy old' }))).toEqual(['Warning:Conflicted']);
    expect(reasons(status({ injected: false }), status({ injected: true }))).toEqual(['Normal:TargetInjected']);
    expect(reasons(status({ bypass: ['a'] }), status({ bypass: ['a', 'b'] }))).toEqual(['Warning:BypassDetected']);
    expect(statusTransitionEvents(status({}), status({ bypass: ['b'] }))[0]?.note).toBe('Service b bypasses');
    expect(reasons(status({ bypass: ['a'] }), status({}))).toEqual(['Normal:BypassResolved']);
  });
});

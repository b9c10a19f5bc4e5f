/** Scrape annotations and grouping labels on injected pod templates, their opt-outs, and their removal. */
import { describe, expect, it } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { injectDeployment } from '../../../operator/inject/inject.js';
import { DEFAULT_INJECTION_SETTINGS } from '../../../operator/inject/settings.js';
import { CASES, deployment } from '../../support/fixtures/deployments.js';

const context = { settings: DEFAULT_INJECTION_SETTINGS, kubeVersion: 'v1.30.0' };
const SCRAPE = { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8503', 'prometheus.io/path': '/metrics' };

const templateOf = (object: V1Deployment) => object.spec!.template.metadata!;
const uninjected = (object: V1Deployment): V1Deployment => {
  const copy = structuredClone(object);
  copy.metadata!.annotations = { ...copy.metadata!.annotations, 'badgateway.io/inject': 'false' };
  return copy;
};

describe('monitoring metadata on injected pod templates', () => {
  it('points the conventional scrape annotations at the admin port and labels Deployment and policy', () => {
    const { deployment: injected } = injectDeployment(CASES['named-http-port']!, { ...context, policyName: 'web-policy' });
    expect(templateOf(injected).annotations).toEqual(SCRAPE);
    expect(templateOf(injected).labels).toEqual({ app: 'web', 'badgateway.io/deployment': 'web', 'badgateway.io/policy': 'web-policy' });
  });

  it('leaves the annotations alone when the pod template sets prometheus.io/scrape itself (the opt-out)', () => {
    const input = structuredClone(CASES['named-http-port']!);
    input.spec!.template.metadata!.annotations = { 'prometheus.io/scrape': 'false' };
    const result = injectDeployment(input, context);
    expect(templateOf(result.deployment).annotations).toEqual({ 'prometheus.io/scrape': 'false' });
    expect(result.reasons.join('\n')).toMatch(/own prometheus.io\/scrape: "false" is kept/);
  });

  it('adds no annotations when the operator turns them off, and still labels', () => {
    const result = injectDeployment(CASES['named-http-port']!, { ...context, settings: { ...DEFAULT_INJECTION_SETTINGS, scrapeAnnotations: false } });
    expect(templateOf(result.deployment).annotations).toBeUndefined();
    expect(templateOf(result.deployment).labels?.['badgateway.io/deployment']).toBe('web');
  });

  it('does not label a Deployment whose name is too long for a label value, and says so', () => {
    const name = 'a'.repeat(64);
    const result = injectDeployment(deployment(name, { containers: [{ name: 'app', image: 'app:1', ports: [{ containerPort: 80 }] }] }), context);
    expect(templateOf(result.deployment).labels).toEqual({ app: name });
    expect(result.reasons.join('\n')).toMatch(/badgateway.io\/deployment not set: .* longer than 63 characters/);
  });

  it('keeps a label the user set', () => {
    const input = structuredClone(CASES['named-http-port']!);
    input.spec!.template.metadata!.labels = { app: 'web', 'badgateway.io/deployment': 'storefront' };
    expect(templateOf(injectDeployment(input, context).deployment).labels?.['badgateway.io/deployment']).toBe('storefront');
  });

  it('removes exactly what it added on un-injection, and is idempotent on re-injection', () => {
    const input = structuredClone(CASES['named-http-port']!);
    input.spec!.template.metadata!.annotations = { 'team.example/owner': 'shop' };
    const injected = injectDeployment(input, { ...context, policyName: 'web-policy' }).deployment;
    expect(injectDeployment(injected, { ...context, policyName: 'web-policy' }).patch).toEqual([]);
    const removed = injectDeployment(uninjected(injected), context).deployment;
    expect(templateOf(removed)).toEqual({ labels: { app: 'web' }, annotations: { 'team.example/owner': 'shop' } });
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any -- custom objects come back as untyped JSON */
/**
 * Ready means "in effect": every target runs the sidecar with this policy's ConfigMap mounted.
 * Each False case, through the real client against the test API server with the controller running.
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { V1Deployment } from '@kubernetes/client-node';
import { eventually } from '../../support/cli.js';
import { condition, deployment, getPolicy, policy, policyGroup, startHarness, type Harness } from './harness.js';

jest.setTimeout(60_000);

let harness: Harness;
beforeEach(async () => { harness = await startHarness(); });
afterEach(async () => { await harness.close(); });

const ready = async (name: string): Promise<any> => condition(await getPolicy(harness.clients, name), 'Ready');
async function waitForReady(name: string, check: (readyCondition: any) => boolean, what: string): Promise<void> {
  let last: unknown;
  await eventually(async () => check(last = await ready(name)), 20_000, () => `${what} (Ready: ${JSON.stringify(last)})`);
}

/** Replaces the stored Deployment's pod template (keeping the operator's stamp), as a rollout by the webhook would. */
async function replaceTemplate(name: string, from: V1Deployment): Promise<void> {
  const stored = await harness.clients.apps.readNamespacedDeployment({ name, namespace: 'default' });
  const template = { ...from.spec!.template, metadata: { ...from.spec!.template.metadata, annotations: stored.spec!.template.metadata?.annotations } };
  await harness.clients.apps.replaceNamespacedDeployment({
    name, namespace: 'default',
    body: { ...stored, metadata: { ...stored.metadata, annotations: from.metadata?.annotations }, spec: { ...stored.spec!, template } },
  });
}

describe('Ready through the API server', () => {
  it('is TargetNotFound for a targetRef to a missing Deployment, and Ready once it appears; lastTransitionTime moves only on the flip', async () => {
    const { clients } = harness;
    await harness.start();
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('web', { targetRef: { kind: 'Deployment', name: 'web' } }) });
    await waitForReady('web', (current) => current?.reason === 'TargetNotFound', 'TargetNotFound');
    const missing = await ready('web');
    expect(missing.status).toBe('False');
    expect(missing.message).toContain('Deployment web not found in namespace default');
    expect((await getPolicy(clients, 'web')).status.configured).toBe('0/0');

    // A change that keeps Ready False (the policy's content changes; the target is still missing)
    // keeps the transition time. (An unrelated Deployment appearing would not even re-queue it.)
    const before = await getPolicy(clients, 'web');
    await clients.custom.replaceNamespacedCustomObject({ ...policyGroup, namespace: 'default', name: 'web', body: { ...before, spec: { ...before.spec, timeouts: { response: '5s' } } } });
    await eventually(async () => {
      const after = await getPolicy(clients, 'web');
      return after.metadata.generation > before.metadata.generation && after.status?.observedGeneration === after.metadata.generation;
    }, 20_000, 'reconciled after the content change');
    expect((await ready('web')).status).toBe('False');
    expect((await ready('web')).lastTransitionTime).toBe(missing.lastTransitionTime);

    await new Promise((resolve) => setTimeout(resolve, 1_100)); // lastTransitionTime has second resolution on the wire
    await clients.apps.createNamespacedDeployment({ namespace: 'default', body: deployment('web', { app: 'web' }, { injected: true }) });
    await waitForReady('web', (current) => current?.status === 'True', 'Ready once the Deployment exists');
    const now = await ready('web');
    expect(now.reason).toBe('Rendered');
    expect(now.lastTransitionTime).not.toBe(missing.lastTransitionTime);
    expect((await getPolicy(clients, 'web')).status.configured).toBe('1/1');
  });

  it('is NoTargets when the selector matches nothing', async () => {
    const { clients } = harness;
    await clients.apps.createNamespacedDeployment({ namespace: 'default', body: deployment('web', { app: 'web' }, { injected: true, policy: 'picky' }) });
    await harness.start();
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('picky', { selector: { matchLabels: { app: 'nothing' } } }) });
    await waitForReady('picky', (current) => current?.reason === 'NoTargets', 'NoTargets');
    expect((await ready('picky')).message).toContain('spec.selector matches no Deployment');

    const current = await getPolicy(clients, 'picky');
    await clients.custom.replaceNamespacedCustomObject({ ...policyGroup, namespace: 'default', name: 'picky', body: { ...current, spec: { selector: { matchLabels: { app: 'web' } } } } });
    await waitForReady('picky', (readyCondition) => readyCondition?.status === 'True', 'Ready once the selector matches');
  });

  it('is TargetsNotConfigured while a target runs the sidecar without this policy\'s ConfigMap', async () => {
    const { clients } = harness;
    // Injected before the policy existed (or by `badgateway inject` without it): the sidecar runs on defaults.
    await clients.apps.createNamespacedDeployment({ namespace: 'default', body: deployment('web', { app: 'web' }, { injected: 'defaults' }) });
    await harness.start();
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('web', { targetRef: { name: 'web' } }) });
    await waitForReady('web', (current) => current?.reason === 'TargetsNotConfigured', 'TargetsNotConfigured');
    const notConfigured = await ready('web');
    expect(notConfigured.status).toBe('False');
    expect(notConfigured.message).toContain('Deployment web runs the sidecar on its defaults, not with badgateway-web');
    expect(notConfigured.message).toContain('kubectl rollout restart deployment/web -n default');
    expect((await getPolicy(clients, 'web')).status.targets).toEqual([{ kind: 'Deployment', name: 'web', injected: true, configured: false }]);

    // The webhook re-renders it at the rollout the operator's stamp started (here: written directly).
    await replaceTemplate('web', deployment('web', { app: 'web' }, { injected: true }));
    await waitForReady('web', (current) => current?.status === 'True', 'Ready once configured');
    expect((await getPolicy(clients, 'web')).status.targets).toEqual([{ kind: 'Deployment', name: 'web', injected: true, configured: true }]);
  });

  it('says the webhook did not inject an annotated Deployment, and asks to annotate one that is not', async () => {
    const { clients } = harness;
    await clients.apps.createNamespacedDeployment({ namespace: 'default', body: deployment('annotated', { app: 'annotated' }, { annotated: true }) });
    await clients.apps.createNamespacedDeployment({ namespace: 'default', body: deployment('plain', { app: 'plain' }) });
    await harness.start();
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('annotated', { targetRef: { name: 'annotated' } }) });
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('plain', { targetRef: { name: 'plain' } }) });
    await waitForReady('annotated', (current) => current?.reason === 'TargetsNotInjected', 'annotated: TargetsNotInjected');
    await waitForReady('plain', (current) => current?.reason === 'TargetsNotInjected', 'plain: TargetsNotInjected');

    const annotated = (await ready('annotated')).message as string;
    expect(annotated).toContain('the webhook did not inject it');
    expect(annotated).toContain('failurePolicy: Ignore');
    expect(annotated).toContain('kubectl get mutatingwebhookconfigurations');
    expect(annotated).not.toContain('kubectl annotate');
    expect((await ready('plain')).message).toContain('kubectl annotate deployment plain -n default badgateway.io/inject=true');
  });
});

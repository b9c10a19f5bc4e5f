import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import type { PolicyController } from '../../../operator/controller/index.js';
import { eventually } from '../../support/cli.js';
import { condition, eventsAbout, getPolicy, policy, policyGroup, startHarness, type Harness } from './harness.js';

jest.setTimeout(60_000);

let harness: Harness;
beforeEach(async () => { harness = await startHarness(); });
afterEach(async () => { await harness.close(); });

const MANAGED = 'app.kubernetes.io/managed-by=badgateway';
const pagedPolicy = (page: string) => policy('paged', { errorPages: [{ status: 502, configMapRef: { name: page, key: 'p.html' } }] });
const page = (name: string, body: string) => ({ metadata: { name, namespace: 'default' }, data: { 'p.html': body } });

describe('the ConfigMaps the controller watches', () => {
  it('lists and watches only rendered ConfigMaps (by label) and referenced pages (by name)', async () => {
    const { clients } = harness;
    const proxy = await harness.recordingProxy();
    const controller: PolicyController = await harness.start({ clients: harness.clientsVia(proxy.url) });
    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: page('pages', '<h1>down</h1>') });
    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: page('unrelated', 'x') });
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: pagedPolicy('pages') });
    await eventually(async () => condition(await getPolicy(clients, 'paged'), 'Accepted')?.status === 'True', 20_000, 'Accepted');
    expect(controller.watchedPages()).toEqual(['default/pages']);

    const configMapReads = proxy.requests.filter((request) => request.method === 'GET' && request.path.endsWith('/configmaps'));
    const selectors = configMapReads.map((request) => request.query.get('labelSelector') ?? request.query.get('fieldSelector') ?? '(none)');
    expect(new Set(selectors)).toEqual(new Set([MANAGED, 'metadata.name=pages']));
    expect(configMapReads.some((request) => request.watch && request.query.get('labelSelector') === MANAGED)).toBe(true);
    expect(configMapReads.some((request) => request.watch && request.query.get('fieldSelector') === 'metadata.name=pages')).toBe(true);

    // The reference moves: the old page is no longer watched, the new one is; deleting the policy releases it.
    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: page('pages-v2', '<h1>v2</h1>') });
    const current = await getPolicy(clients, 'paged');
    await clients.custom.replaceNamespacedCustomObject({ ...policyGroup, namespace: 'default', name: 'paged', body: { ...current, spec: pagedPolicy('pages-v2').spec } });
    await eventually(() => controller.watchedPages().join() === 'default/pages-v2', 20_000, 'page watch moved');
    await eventually(async () => {
      const rendered = await clients.core.readNamespacedConfigMap({ name: 'badgateway-paged', namespace: 'default' });
      return rendered.data?.['policy.json']?.includes('<h1>v2</h1>') ?? false;
    }, 20_000, 'new page rendered');
    await clients.custom.deleteNamespacedCustomObject({ ...policyGroup, namespace: 'default', name: 'paged' });
    await eventually(() => controller.watchedPages().length === 0, 20_000, 'page watch released');
  });

  it('does not reconcile a policy when an unrelated ConfigMap changes', async () => {
    const { clients } = harness;
    const controller = await harness.start();
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('web', {}) });
    await eventually(async () => condition(await getPolicy(clients, 'web'), 'Accepted')?.status === 'True', 20_000, 'Accepted');
    await controller.idle();
    const reconcilesOfWeb = (): number => harness.reconciles.filter((key) => key === 'default/web').length;
    const before = reconcilesOfWeb();

    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: page('unrelated', 'a') });
    await clients.core.replaceNamespacedConfigMap({ name: 'unrelated', namespace: 'default', body: page('unrelated', 'b') });
    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { ...page('badgateway-ghost', 'c'), metadata: { name: 'badgateway-ghost', namespace: 'default', labels: { 'app.kubernetes.io/managed-by': 'badgateway' } } } });
    await clients.core.deleteNamespacedConfigMap({ name: 'unrelated', namespace: 'default' });
    // A barrier: a second policy rendered after those changes, so their watch events have had their chance.
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('barrier', {}) });
    await eventually(async () => condition(await getPolicy(clients, 'barrier'), 'Accepted')?.status === 'True', 20_000, 'barrier Accepted');
    await controller.idle();
    expect(reconcilesOfWeb()).toBe(before);
  });

  it('recreates its rendered ConfigMap when it is deleted', async () => {
    const { clients } = harness;
    await harness.start();
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: policy('web', {}) });
    await eventually(async () => condition(await getPolicy(clients, 'web'), 'Accepted')?.status === 'True', 20_000, 'Accepted');
    await clients.core.deleteNamespacedConfigMap({ name: 'badgateway-web', namespace: 'default' });
    await eventually(async () => (await clients.core.readNamespacedConfigMap({ name: 'badgateway-web', namespace: 'default' }).catch(() => undefined)) !== undefined, 20_000, 'recreated');
  });

  it('renders a referenced page although its first lists fail', async () => {
    const { clients } = harness;
    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: page('pages', '<h1>sturdy</h1>') });
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: pagedPolicy('pages') });
    await harness.start();
    harness.server.faults.failNext(6, 500);
    await eventually(async () => {
      const rendered = await clients.core.readNamespacedConfigMap({ name: 'badgateway-paged', namespace: 'default' }).catch(() => undefined);
      return rendered?.data?.['policy.json']?.includes('<h1>sturdy</h1>') ?? false;
    }, 30_000, 'page rendered after faults');
    await eventually(async () => condition(await getPolicy(clients, 'paged').catch(() => undefined), 'Accepted')?.status === 'True', 30_000, 'Accepted');
    // The page existed all along: a failed list must never be reported as a missing page.
    expect((await eventsAbout(clients, 'paged')).map((event) => event.reason)).not.toContain('PageNotFound');
  });

  it('rejects a referenced page over 64 KiB and keeps the last good ConfigMap', async () => {
    const { clients } = harness;
    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: page('pages', '<h1>good</h1>') });
    await harness.start();
    await clients.custom.createNamespacedCustomObject({ ...policyGroup, namespace: 'default', body: pagedPolicy('pages') });
    const renderedPage = async (): Promise<string | undefined> =>
      (await clients.core.readNamespacedConfigMap({ name: 'badgateway-paged', namespace: 'default' }).catch(() => undefined))?.data?.['policy.json'];
    await eventually(async () => (await renderedPage())?.includes('<h1>good</h1>') ?? false, 20_000, 'rendered');
    await clients.core.replaceNamespacedConfigMap({ name: 'pages', namespace: 'default', body: page('pages', 'x'.repeat(64 * 1024 + 1)) });
    await eventually(async () => condition(await getPolicy(clients, 'paged'), 'Accepted')?.reason === 'PageTooLarge', 20_000, 'PageTooLarge');
    expect(condition(await getPolicy(clients, 'paged'), 'Accepted').message).toContain('spec.errorPages[0]');
    expect(condition(await getPolicy(clients, 'paged'), 'Ready')?.status).toBe('False');
    expect(await renderedPage()).toContain('<h1>good</h1>');
  });
});

import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { silentLogger } from '../../../api/logger.js';
import { createPageWatcher, type PageWatcher } from '../../../operator/controller/page-watch.js';
import { eventually } from '../../support/cli.js';
import { startHarness, type Harness } from './harness.js';

jest.setTimeout(60_000);

let harness: Harness;
let watcher: PageWatcher | undefined;
const changes: string[] = [];
beforeEach(async () => {
  harness = await startHarness();
  changes.length = 0;
  watcher = createPageWatcher({ clients: harness.clients, logger: silentLogger(), restartDelayMs: 100, onChange: (namespace, name) => changes.push(`${namespace}/${name}`) });
});
afterEach(async () => {
  await watcher?.close();
  await harness.close();
});

describe('page watcher', () => {
  it('refuses to answer before a page is listed, then serves it and reports its changes', async () => {
    const { clients, server } = harness;
    await clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'pages' }, data: { 'p.html': 'v1' } } });
    server.faults.failNext(1, 500);
    // A failed list is "not known yet", never "no such ConfigMap".
    await expect(watcher!.track('default/a', 'default', ['pages'])).rejects.toThrow('could not be listed yet');
    await eventually(async () => {
      try { await watcher!.track('default/a', 'default', ['pages']); return true; } catch { return false; }
    }, 20_000, 'listed after the retry');
    expect(watcher!.data('default', 'pages')).toEqual({ 'p.html': 'v1' });

    await clients.core.replaceNamespacedConfigMap({ name: 'pages', namespace: 'default', body: { metadata: { name: 'pages' }, data: { 'p.html': 'v2' } } });
    await eventually(() => watcher!.data('default', 'pages')?.['p.html'] === 'v2', 20_000, 'change seen');
    expect(changes).toContain('default/pages');
  });

  it('watches a page while any policy references it', async () => {
    await watcher!.track('default/a', 'default', ['shared', 'only-a']);
    await watcher!.track('default/b', 'default', ['shared']);
    expect(watcher!.watched()).toEqual(['default/only-a', 'default/shared']);
    expect(watcher!.data('default', 'shared')).toBeUndefined();
    await watcher!.track('default/a', 'default', []);
    expect(watcher!.watched()).toEqual(['default/shared']);
    await watcher!.track('default/b', 'default', []);
    expect(watcher!.watched()).toEqual([]);
  });

  it('does not watch names no ConfigMap can have', async () => {
    await watcher!.track('default/a', 'default', ['Not_A_Name', 'x,metadata.namespace=other', 'ok.pages']);
    expect(watcher!.watched()).toEqual(['default/ok.pages']);
  });
});

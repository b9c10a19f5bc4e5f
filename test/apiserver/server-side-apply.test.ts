/* eslint-disable @typescript-eslint/no-explicit-any -- kubectl -o json comes back as untyped JSON */
/**
 * Server-side apply with the real `kubectl apply --server-side` (v1.35): create on apply, field
 * managers in `managedFields`, 409 conflicts naming the manager and field, `--force-conflicts`,
 * removal of fields a manager stops applying, keyed lists merged item by item.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { startClientSession, type ClientSession } from '../support/client-session.js';

let session: ClientSession;
beforeEach(async () => {
  session = await startClientSession();
});
afterEach(async () => {
  await session.close();
});

const configMap = (data: Record<string, string>) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default' }, data });
const getJson = async (...args: string[]): Promise<any> => JSON.parse(await session.kubectlOk(['get', ...args, '-o', 'json', '--show-managed-fields']));
const managers = (object: any): Record<string, any> =>
  Object.fromEntries((object.metadata.managedFields ?? []).map((entry: any) => [`${entry.manager}/${entry.operation}`, entry.fieldsV1]));

describe('server-side apply', () => {
  it('creates on apply and records the applier as the owner of what it applied', async () => {
    expect(await session.kubectlOk(['apply', '--server-side', '-f', '-'], configMap({ color: 'blue', size: 'L' }))).toContain('configmap/settings serverside-applied');
    const created = await getJson('configmap', 'settings');
    expect(created.data).toEqual({ color: 'blue', size: 'L' });
    expect(managers(created)).toEqual({ 'kubectl/Apply': { 'f:data': { '.': {}, 'f:color': {}, 'f:size': {} } } });
    // Applying the same configuration again changes nothing.
    await session.kubectlOk(['apply', '--server-side', '-f', '-'], configMap({ color: 'blue', size: 'L' }));
    expect((await getJson('configmap', 'settings')).metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  });

  it('refuses to take a field another manager owns with another value, until --force-conflicts', async () => {
    await session.kubectlOk(['apply', '--server-side', '-f', '-'], configMap({ color: 'blue', size: 'L' }));
    const refused = await session.kubectl(['apply', '--server-side', '--field-manager', 'team-b', '-f', '-'], configMap({ color: 'red' }));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl": .data.color');
    expect((await getJson('configmap', 'settings')).data.color).toBe('blue');

    // The same value is shared ownership, not a conflict.
    await session.kubectlOk(['apply', '--server-side', '--field-manager', 'team-b', '-f', '-'], configMap({ size: 'L' }));
    await session.kubectlOk(['apply', '--server-side', '--field-manager', 'team-b', '--force-conflicts', '-f', '-'], configMap({ color: 'red', size: 'L' }));
    const forced = await getJson('configmap', 'settings');
    expect(forced.data).toEqual({ color: 'red', size: 'L' });
    expect(managers(forced)).toEqual({
      'kubectl/Apply': { 'f:data': { '.': {}, 'f:size': {} } },
      'team-b/Apply': { 'f:data': { '.': {}, 'f:color': {}, 'f:size': {} } },
    });
  });

  it('removes a field its only applier stops applying, keeps one someone else owns', async () => {
    await session.kubectlOk(['apply', '--server-side', '-f', '-'], configMap({ color: 'blue', size: 'L', shape: 'round' }));
    await session.kubectlOk(['patch', 'configmap', 'settings', '--type=merge', '-p', '{"data":{"shape":"square"}}']);
    expect(Object.keys(managers(await getJson('configmap', 'settings')))).toEqual(['kubectl/Apply', 'kubectl-patch/Update']);
    await session.kubectlOk(['apply', '--server-side', '-f', '-'], configMap({ color: 'blue' }));
    expect((await getJson('configmap', 'settings')).data).toEqual({ color: 'blue', shape: 'square' });
    // An Update manager's field conflicts too, named with its apiVersion.
    const refused = await session.kubectl(['apply', '--server-side', '-f', '-'], configMap({ color: 'blue', shape: 'round' }));
    expect(refused.stderr).toContain('conflict with "kubectl-patch" using v1: .data.shape');
  });

  it('merges keyed lists item by item (containers by name) and replaces atomic ones', async () => {
    const deployment = (containers: Array<Record<string, unknown>>) => JSON.stringify({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers } } },
    });
    await session.kubectlOk(['apply', '--server-side', '-f', '-'], deployment([{ name: 'app', image: 'nginx:1.27', args: ['-a'] }]));
    await session.kubectlOk(['apply', '--server-side', '--field-manager', 'sidecar-team', '-f', '-'], deployment([{ name: 'log', image: 'busybox:1' }]));
    await session.kubectlOk(['apply', '--server-side', '-f', '-'], deployment([{ name: 'app', image: 'nginx:1.28', args: ['-b'] }]));
    const merged = await getJson('deployment', 'web');
    expect(merged.spec.template.spec.containers).toEqual([{ name: 'app', image: 'nginx:1.28', args: ['-b'] }, { name: 'log', image: 'busybox:1' }]);
    expect(managers(merged)['sidecar-team/Apply']['f:spec']['f:template']['f:spec']['f:containers']).toEqual({ 'k:{"name":"log"}': { '.': {}, 'f:image': {}, 'f:name': {} } });
  });
});

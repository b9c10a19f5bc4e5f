/**
 * Namespaces as on a real server, with the real kubectl: the initial four exist, an object in a
 * namespace that does not exist is 404 (strict mode: standalone and real-client sessions), and
 * deleting a namespace deletes what is in it.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { startTestApiServer } from '../support/apiserver/index.js';
import { startClientSession, type ClientSession } from '../support/client-session.js';

let session: ClientSession | undefined;
afterEach(async () => {
  await session?.close();
  session = undefined;
});

const names = (text: string): string[] => (JSON.parse(text) as { items: Array<{ metadata: { name: string } }> }).items.map((item) => item.metadata.name);

describe('namespaces', () => {
  it('starts with default, kube-system, kube-public and kube-node-lease, labelled and Active', async () => {
    session = await startClientSession();
    expect(names(await session.kubectlOk(['get', 'namespaces', '-o', 'json']))).toEqual(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
    expect(await session.kubectlOk(['get', 'namespace', 'default', '-o', 'jsonpath={.metadata.labels.kubernetes\\.io/metadata\\.name} {.status.phase}'])).toBe('default Active');
  });

  it('refuses objects in a namespace that does not exist with 404, like a real server', async () => {
    session = await startClientSession();
    const created = await session.kubectl(['-n', 'nowhere', 'create', 'configmap', 'settings', '--from-literal=a=b']);
    expect(created.code).toBe(1);
    expect(created.stderr).toContain('namespaces "nowhere" not found');
    const applied = await session.kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'nowhere' } }));
    expect(applied.stderr).toContain('namespaces "nowhere" not found');
    await session.kubectlOk(['create', 'namespace', 'nowhere']);
    await session.kubectlOk(['-n', 'nowhere', 'create', 'configmap', 'settings', '--from-literal=a=b']);
  });

  it('deletes what a namespace holds with it', async () => {
    session = await startClientSession();
    await session.kubectlOk(['create', 'namespace', 'shop']);
    await session.kubectlOk(['-n', 'shop', 'create', 'configmap', 'settings', '--from-literal=a=b']);
    await session.kubectlOk(['-n', 'shop', 'create', 'deployment', 'web', '--image=nginx:1.27']);
    await session.kubectlOk(['-n', 'default', 'create', 'configmap', 'kept', '--from-literal=a=b']);
    await session.kubectlOk(['delete', 'namespace', 'shop']);
    expect(names(await session.kubectlOk(['get', 'configmaps,deployments', '-A', '-o', 'json']))).toEqual(['kept']);
    expect((await session.kubectl(['get', 'namespace', 'shop'])).stderr).toContain('namespaces "shop" not found');
  });

  it('is lenient by default for in-process tests that use namespaces without creating them', async () => {
    const server = await startTestApiServer();
    try {
      const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'shop' } };
      expect((await server.create(configMap)).status).toBe(201);
    } finally {
      await server.close();
    }
  });
});

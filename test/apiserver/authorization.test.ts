import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../operator/kube/clients.js';
import { apiStatus } from '../../operator/kube/errors.js';
import { startTestApiServer, type TestApiServer } from '../support/apiserver/index.js';

let server: TestApiServer;
let admin: KubeClients;
let robot: KubeClients;

beforeEach(async () => {
  server = await startTestApiServer();
  admin = createKubeClients(loadKubeConfig(server.kubeconfigPath));
  robot = createKubeClients(loadKubeConfig(server.serviceAccountKubeconfig('tools', 'robot')));
  await admin.core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'a' } } });
  await admin.core.createNamespacedConfigMap({ namespace: 'other', body: { metadata: { name: 'a' } } });
});
afterEach(async () => {
  await server.close();
});

const rbac = (path: string, body: Record<string, unknown>) => server.post(`/apis/rbac.authorization.k8s.io/v1${path}`, { apiVersion: 'rbac.authorization.k8s.io/v1', ...body });
const robotSubject = [{ kind: 'ServiceAccount', name: 'robot', namespace: 'tools' }];
const failure = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  return { status: apiStatus(error), body: String((error as { body?: unknown } | undefined)?.body ?? '') };
};

describe('test API server RBAC', () => {
  it('refuses a ServiceAccount without bindings with 403 naming user, verb, resource and scope, but lets it read discovery', async () => {
    const refused = await failure(robot.core.listNamespacedConfigMap({ namespace: 'shop' }));
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('configmaps is forbidden: User \\"system:serviceaccount:tools:robot\\" cannot list resource \\"configmaps\\" in API group \\"\\" in the namespace \\"shop\\"');
    expect((await robot.version.getCode()).gitVersion).toBe('v1.30.0');
  });

  it('grants a Role in its namespace only, and only its verbs', async () => {
    expect(await rbac('/namespaces/shop/roles', { kind: 'Role', metadata: { name: 'read' }, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list'] }] })).toBe(201);
    expect(await rbac('/namespaces/shop/rolebindings', { kind: 'RoleBinding', metadata: { name: 'read' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read' }, subjects: robotSubject })).toBe(201);
    expect((await robot.core.listNamespacedConfigMap({ namespace: 'shop' })).items).toHaveLength(1);
    expect((await robot.core.readNamespacedConfigMap({ namespace: 'shop', name: 'a' })).metadata?.name).toBe('a');
    expect((await failure(robot.core.listNamespacedConfigMap({ namespace: 'other' }))).status).toBe(403);
    expect((await failure(robot.core.listConfigMapForAllNamespaces())).status).toBe(403);
    expect((await failure(robot.core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name: 'b' } } }))).status).toBe(403);
  });

  it('grants a ClusterRole everywhere through a ClusterRoleBinding, honouring resourceNames and subresources', async () => {
    expect(await rbac('/clusterroles', { kind: 'ClusterRole', metadata: { name: 'narrow' }, rules: [
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'update'], resourceNames: ['a'] },
      { apiGroups: [''], resources: ['namespaces/status'], verbs: ['get'] },
    ] })).toBe(201);
    expect(await rbac('/clusterrolebindings', { kind: 'ClusterRoleBinding', metadata: { name: 'narrow' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'narrow' }, subjects: robotSubject })).toBe(201);
    await admin.core.createNamespacedConfigMap({ namespace: 'other', body: { metadata: { name: 'b' } } });
    expect((await robot.core.readNamespacedConfigMap({ namespace: 'other', name: 'a' })).metadata?.name).toBe('a');
    expect((await failure(robot.core.readNamespacedConfigMap({ namespace: 'other', name: 'b' }))).status).toBe(403);
    expect((await failure(robot.core.listNamespacedConfigMap({ namespace: 'other' }))).status).toBe(403);
    await admin.core.createNamespace({ body: { metadata: { name: 'team' } } });
    expect((await robot.core.readNamespaceStatus({ name: 'team' })).metadata?.name).toBe('team');
    expect((await failure(robot.core.readNamespace({ name: 'team' }))).status).toBe(403);
  });

  it('answers an unknown token with 401', async () => {
    const response = await fetch(`${server.url}/api/v1/namespaces`, { headers: { authorization: 'Bearer nope' } });
    expect(response.status).toBe(401);
  });
});

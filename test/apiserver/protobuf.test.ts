/**
 * Protobuf bodies (`application/vnd.kubernetes.protobuf`, the `k8s\0` envelope) as the real
 * kubectl v1.35 sends them for `kubectl create namespace|configmap|secret|deployment|...`, and
 * answers in protobuf to clients that prefer it. Stored objects are checked as JSON.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { decodeProtobufBody, encodeProtobufBody, PROTOBUF } from '../support/apiserver/protobuf/codec.js';
import { startClientSession, type ClientSession } from '../support/client-session.js';
import { renderChart } from '../support/helm.js';

let session: ClientSession;
beforeEach(async () => {
  session = await startClientSession();
});
afterEach(async () => {
  await session.close();
});

const token = () => /token: (\S+)/.exec(session.server.kubeConfigYaml)?.[1] ?? '';
async function getAs(path: string, accept: string): Promise<{ status: number; contentType: string; body: Buffer }> {
  const response = await fetch(`${session.server.url}${path}`, { headers: { authorization: `Bearer ${token()}`, accept } });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: Buffer.from(await response.arrayBuffer()) };
}

describe('protobuf bodies', () => {
  it('accepts what kubectl create sends for the built-in kinds', async () => {
    await session.kubectlOk(['create', 'namespace', 'shop']);
    await session.kubectlOk(['-n', 'shop', 'create', 'configmap', 'settings', '--from-literal=color=blue']);
    await session.kubectlOk(['-n', 'shop', 'create', 'secret', 'generic', 'token', '--from-literal=key=s3cr3t']);
    await session.kubectlOk(['-n', 'shop', 'create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=0', '--port=8080']);
    await session.kubectlOk(['-n', 'shop', 'create', 'serviceaccount', 'robot']);
    await session.kubectlOk(['-n', 'shop', 'create', 'service', 'clusterip', 'web', '--tcp=80:8080']);
    const get = async (...args: string[]) => JSON.parse(await session.kubectlOk(['-n', 'shop', 'get', ...args, '-o', 'json']));

    expect((await get('namespace', 'shop')).metadata.name).toBe('shop');
    expect((await get('configmap', 'settings')).data).toEqual({ color: 'blue' });
    const secret = await get('secret', 'token');
    expect(Buffer.from(secret.data.key, 'base64').toString()).toBe('s3cr3t');
    const deployment = await get('deployment', 'web');
    // replicas is a pointer: an explicit 0 survives the wire, unlike the zero values of plain fields.
    expect(deployment.spec.replicas).toBe(0);
    expect(deployment.spec.selector).toEqual({ matchLabels: { app: 'web' } });
    expect(deployment.spec.template.spec.containers).toEqual([{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 8080 }], resources: {} }]);
    expect((await get('serviceaccount', 'robot')).metadata.namespace).toBe('shop');
    expect((await get('service', 'web')).spec).toMatchObject({ type: 'ClusterIP', selector: { app: 'web' }, ports: [{ name: '80-8080', port: 80, protocol: 'TCP', targetPort: 8080 }] });
  });

  it('answers protobuf to a client that prefers it, JSON otherwise', async () => {
    await session.kubectlOk(['-n', 'default', 'create', 'configmap', 'settings', '--from-literal=color=blue']);
    const path = '/api/v1/namespaces/default/configmaps/settings';
    const asProtobuf = await getAs(path, `${PROTOBUF}, application/json`);
    expect(asProtobuf.contentType).toBe(PROTOBUF);
    expect(asProtobuf.body.subarray(0, 4).toString('latin1')).toBe('k8s\0');
    const asJson = await getAs(path, `application/json, ${PROTOBUF}`);
    expect(asJson.contentType).toBe('application/json');
    const json = JSON.parse(asJson.body.toString('utf8'));
    expect(decodeProtobufBody(asProtobuf.body)).toEqual(json);
    // Errors too: a Status message.
    const missing = await getAs('/api/v1/namespaces/default/configmaps/nope', PROTOBUF);
    expect(missing.status).toBe(404);
    expect(decodeProtobufBody(missing.body)).toMatchObject({ kind: 'Status', code: 404, reason: 'NotFound', message: 'configmaps "nope" not found' });
  });

  it('round-trips what it encodes, and refuses bytes it cannot decode with 400', async () => {
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'a', namespace: 'default', labels: { owner: 'helm' }, creationTimestamp: '2026-01-02T03:04:05Z' }, type: 'Opaque', data: { k: Buffer.from([0, 1, 255]).toString('base64') } };
    expect(decodeProtobufBody(encodeProtobufBody(secret))).toEqual(secret);
    // Every field of the chart's own Deployment and Services has a table entry: they travel as protobuf, whole.
    for (const object of renderChart().filter((rendered) => ['Deployment', 'Service', 'ServiceAccount'].includes(rendered.kind))) {
      expect(decodeProtobufBody(encodeProtobufBody(object))).toEqual(object);
    }
    const response = await fetch(`${session.server.url}/api/v1/namespaces/default/secrets`, {
      method: 'POST', headers: { authorization: `Bearer ${token()}`, 'content-type': PROTOBUF }, body: Buffer.from('k8s\0\x0a\x03abc'),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toMatch(/protobuf body could not be decoded/);
  });
});

/* eslint-disable @typescript-eslint/no-explicit-any -- AdmissionReviews are untyped JSON */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generateCa, generateServingCert, type CertificateAuthority, type ServingCertificate } from '../../operator/certs/generate.js';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../operator/kube/clients.js';
import { apiStatus } from '../../operator/kube/errors.js';
import { startTestApiServer, type TestApiServer } from '../support/apiserver/index.js';

/** A real HTTPS webhook that records every review and answers with `respond`. */
interface RecordingWebhook { port: number; reviews: any[]; respond: (request: any) => any | Promise<any>; close(): Promise<void> }

async function startWebhook(certificate: ServingCertificate): Promise<RecordingWebhook> {
  const webhook: Partial<RecordingWebhook> = { reviews: [], respond: (request: any) => ({ uid: request.uid, allowed: true }) };
  const server: Server = createServer({ key: certificate.keyPem, cert: certificate.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    const answer = async (): Promise<void> => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      webhook.reviews!.push({ ...review, path: req.url });
      const response = await webhook.respond!(review.request);
      if (res.destroyed) return;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
    };
    req.on('end', () => void answer());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  webhook.port = (server.address() as AddressInfo).port;
  webhook.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return webhook as RecordingWebhook;
}

const base64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

let ca: CertificateAuthority;
let certificate: ServingCertificate;
let server: TestApiServer;
let clients: KubeClients;
let webhook: RecordingWebhook;

beforeAll(async () => {
  ca = await generateCa('test-webhook-ca');
  certificate = await generateServingCert(ca, ['hook.system.svc', 'localhost']);
});
beforeEach(async () => {
  server = await startTestApiServer();
  clients = createKubeClients(loadKubeConfig(server.kubeconfigPath));
  webhook = await startWebhook(certificate);
  server.routeService('system', 'hook', webhook.port);
});
afterEach(async () => {
  await webhook.close();
  await server.close();
});

function configuration(overrides: Record<string, unknown> = {}, caPem = certificate.caPem): Record<string, unknown> {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: 'hook' },
    webhooks: [{
      name: 'configmaps.test.io',
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      clientConfig: { service: { namespace: 'system', name: 'hook', path: '/mutate', port: 443 }, caBundle: Buffer.from(caPem).toString('base64') },
      rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' }],
      ...overrides,
    }],
  };
}

async function install(config: Record<string, unknown>): Promise<void> {
  expect(await server.post('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', config)).toBe(201);
}

const createConfigMap = (name: string, extra: Record<string, unknown> = {}) =>
  clients.core.createNamespacedConfigMap({ namespace: 'shop', body: { metadata: { name, ...extra }, data: { a: '1' } } });

describe('test API server mutating admission', () => {
  it('sends an AdmissionReview over verified TLS and applies the returned JSONPatch on create and update', async () => {
    webhook.respond = (request) => ({ uid: request.uid, allowed: true, patchType: 'JSONPatch', patch: base64([{ op: 'add', path: '/data/mutated', value: request.operation }]), warnings: ['patched by the test'] });
    await install(configuration());
    const created = await createConfigMap('one');
    expect(created.data).toEqual({ a: '1', mutated: 'CREATE' });
    const [review] = webhook.reviews;
    expect(review.path).toBe('/mutate?timeout=10s');
    expect(review).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    expect(review.request).toMatchObject({
      kind: { group: '', version: 'v1', kind: 'ConfigMap' },
      resource: { group: '', version: 'v1', resource: 'configmaps' },
      operation: 'CREATE', namespace: 'shop', name: 'one', oldObject: null,
      object: { metadata: { name: 'one', namespace: 'shop' }, data: { a: '1' } },
    });
    expect(review.request.uid).toMatch(/^[0-9a-f-]{36}$/);

    await clients.core.patchNamespacedConfigMap({ name: 'one', namespace: 'shop', body: { data: { a: '2' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const stored = await clients.core.readNamespacedConfigMap({ name: 'one', namespace: 'shop' });
    expect(stored.data).toEqual({ a: '2', mutated: 'UPDATE' });
    expect(webhook.reviews[1].request).toMatchObject({ operation: 'UPDATE', oldObject: { data: { a: '1', mutated: 'CREATE' } }, object: { data: { a: '2' } } });

    const raw = await fetch(`${server.url}/api/v1/namespaces/shop/configmaps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokenOf(server)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ metadata: { name: 'two' }, data: {} }),
    });
    expect(raw.status).toBe(201);
    expect(raw.headers.get('warning')).toBe('299 - "patched by the test"');
  });

  it('calls only webhooks whose rules, namespaceSelector, objectSelector and matchConditions match', async () => {
    await install(configuration({
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] }] },
      objectSelector: { matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] },
      matchConditions: [{ name: 'opted-in', expression: "has(object.metadata.annotations) && 'test.io/inject' in object.metadata.annotations" }],
    }));
    await createConfigMap('plain');
    await createConfigMap('labelled', { labels: { skip: 'yes' }, annotations: { 'test.io/inject': 'true' } });
    await clients.core.createNamespacedConfigMap({ namespace: 'kube-system', body: { metadata: { name: 'system', annotations: { 'test.io/inject': 'true' } } } });
    await clients.core.createNamespacedSecret({ namespace: 'shop', body: { metadata: { name: 'secret', annotations: { 'test.io/inject': 'true' } } } });
    expect(webhook.reviews).toHaveLength(0);
    await createConfigMap('wanted', { annotations: { 'test.io/inject': 'true' } });
    expect(webhook.reviews.map((review) => review.request.name)).toEqual(['wanted']);
  });

  it('fails closed or open by failurePolicy when the certificate does not verify or the webhook is too slow', async () => {
    const otherCa = await generateCa('someone-else');
    await install(configuration({ failurePolicy: 'Fail' }, otherCa.certPem));
    const untrusted = await createConfigMap('untrusted').catch((error: unknown) => error);
    expect(apiStatus(untrusted)).toBe(500);
    expect(String((untrusted as { body?: unknown }).body)).toContain('failed calling webhook \\"configmaps.test.io\\"');
    expect(webhook.reviews).toHaveLength(0);

    expect(await server.post('/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', { ...configuration({ failurePolicy: 'Ignore' }, otherCa.certPem), metadata: { name: 'ignored' } })).toBe(201);
    // Both configurations match; the Fail one still refuses, so remove it to see Ignore alone.
    await fetch(`${server.url}/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/hook`, { method: 'DELETE', headers: { authorization: `Bearer ${tokenOf(server)}` } });
    expect((await createConfigMap('admitted')).data).toEqual({ a: '1' });

    await fetch(`${server.url}/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/ignored`, { method: 'DELETE', headers: { authorization: `Bearer ${tokenOf(server)}` } });
    webhook.respond = async (request) => {
      await new Promise((resolve) => setTimeout(resolve, 3_000).unref());
      return { uid: request.uid, allowed: true };
    };
    await install(configuration({ failurePolicy: 'Fail', timeoutSeconds: 1 }));
    const started = Date.now();
    const slow = await createConfigMap('slow').catch((error: unknown) => error);
    expect(apiStatus(slow)).toBe(500);
    expect(String((slow as { body?: unknown }).body)).toContain('context deadline exceeded');
    expect(Date.now() - started).toBeLessThan(2_900);
  });

  it('refuses the request with a 400 naming the webhook when it denies, and rejects a response for another uid', async () => {
    webhook.respond = (request) => ({ uid: request.uid, allowed: false, status: { message: 'not today' } });
    await install(configuration());
    const denied = await createConfigMap('denied').catch((error: unknown) => error);
    expect(apiStatus(denied)).toBe(400);
    expect(String((denied as { body?: unknown }).body)).toContain('admission webhook \\"configmaps.test.io\\" denied the request: not today');

    webhook.respond = () => ({ uid: 'someone-else', allowed: true });
    const mismatched = await createConfigMap('mismatched').catch((error: unknown) => error);
    expect(apiStatus(mismatched)).toBe(500);
    expect(String((mismatched as { body?: unknown }).body)).toContain('expected response.uid');
  });

  it('reaches a webhook by url with the certificate checked against the host name in the URL', async () => {
    webhook.respond = (request) => ({ uid: request.uid, allowed: true, patchType: 'JSONPatch', patch: base64([{ op: 'add', path: '/metadata/labels', value: { via: 'url' } }]) });
    await install(configuration({ clientConfig: { url: `https://localhost:${webhook.port}/by-url`, caBundle: Buffer.from(certificate.caPem).toString('base64') } }));
    expect((await createConfigMap('by-url')).metadata?.labels).toEqual({ via: 'url' });
    expect(webhook.reviews[0].path).toBe('/by-url?timeout=10s');
  });
});

function tokenOf(target: TestApiServer): string {
  return /token: (\S+)/.exec(target.kubeConfigYaml)?.[1] as string;
}

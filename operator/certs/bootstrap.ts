/**
 * TLS bootstrap for the webhook without cert-manager: the CA and serving certificate live in one
 * Secret shared by every replica (created once; a replica that loses the create race reads the
 * winner's), the leaf is renewed with the stored CA well before it expires, and the
 * MutatingWebhookConfiguration's caBundle is kept pointing at the CA.
 */
import { PatchStrategy, setHeaderOptions, type V1Secret } from '@kubernetes/client-node';
import type { KubeClients } from '../kube/clients.js';
import { isConflict, isNotFound } from '../kube/errors.js';
import { certificateNotAfter, generateCa, generateServingCert, serviceDnsNames, type ServingCertificate } from './generate.js';

/** Renew the serving certificate when less than this is left. */
export const RENEW_BEFORE_MS = 30 * 86_400_000;

export interface CertTarget {
  namespace: string;
  secretName: string;
  serviceName: string;
}

const encode = (text: string) => Buffer.from(text).toString('base64');
const decode = (data: Record<string, string> | undefined, key: string) =>
  (data?.[key] === undefined ? undefined : Buffer.from(data[key], 'base64').toString('utf8'));

function fromSecret(secret: V1Secret): (ServingCertificate & { caKeyPem: string }) | undefined {
  const certPem = decode(secret.data, 'tls.crt');
  const keyPem = decode(secret.data, 'tls.key');
  const caPem = decode(secret.data, 'ca.crt');
  const caKeyPem = decode(secret.data, 'ca.key');
  if (certPem === undefined || keyPem === undefined || caPem === undefined || caKeyPem === undefined) return undefined;
  return { certPem, keyPem, caPem, caKeyPem, notAfter: certificateNotAfter(certPem) };
}

function secretBody(target: CertTarget, cert: ServingCertificate, caKeyPem: string, resourceVersion?: string): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name: target.secretName, namespace: target.namespace, labels: { 'app.kubernetes.io/name': 'badgateway', 'app.kubernetes.io/component': 'webhook-tls' }, ...(resourceVersion === undefined ? {} : { resourceVersion }) },
    data: { 'tls.crt': encode(cert.certPem), 'tls.key': encode(cert.keyPem), 'ca.crt': encode(cert.caPem), 'ca.key': encode(caKeyPem) },
  };
}

/** Reads, creates or renews the serving certificate; safe to run from every replica at once. */
export async function ensureServingCertificate(clients: KubeClients, target: CertTarget, now = new Date()): Promise<ServingCertificate> {
  for (let attempt = 0; attempt < 5; attempt += 1) {
    let secret: V1Secret | undefined;
    try {
      secret = await clients.core.readNamespacedSecret({ name: target.secretName, namespace: target.namespace });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const stored = secret === undefined ? undefined : fromSecret(secret);
    if (stored !== undefined && stored.notAfter.getTime() - now.getTime() > RENEW_BEFORE_MS) return stored;

    const ca = stored === undefined ? await generateCa('badgateway-webhook-ca', 3650, now) : { certPem: stored.caPem, keyPem: stored.caKeyPem };
    const cert = await generateServingCert(ca, serviceDnsNames(target.serviceName, target.namespace), 365, now);
    try {
      if (secret === undefined) {
        await clients.core.createNamespacedSecret({ namespace: target.namespace, body: secretBody(target, cert, ca.keyPem) });
      } else {
        await clients.core.replaceNamespacedSecret({ name: target.secretName, namespace: target.namespace, body: secretBody(target, cert, ca.keyPem, secret.metadata?.resourceVersion) });
      }
      return cert;
    } catch (error) {
      if (!isConflict(error)) throw error; // another replica won: read what it wrote
    }
  }
  throw new Error(`could not settle Secret ${target.namespace}/${target.secretName} after 5 attempts`);
}

/** Points every webhook of the configuration at the CA; returns whether anything changed. */
export async function ensureCaBundle(clients: KubeClients, webhookConfigName: string, caPem: string): Promise<boolean> {
  const config = await clients.admission.readMutatingWebhookConfiguration({ name: webhookConfigName });
  const bundle = encode(caPem);
  const patch = (config.webhooks ?? []).flatMap((webhook, index) =>
    (webhook.clientConfig.caBundle === bundle ? [] : [{ op: 'add', path: `/webhooks/${index}/clientConfig/caBundle`, value: bundle }]));
  if (patch.length === 0) return false;
  await clients.admission.patchMutatingWebhookConfiguration(
    { name: webhookConfigName, body: patch },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
  return true;
}

/**
 * The control plane's secrets, made fresh for every start with node:crypto: the apiserver's serving
 * certificate (for 127.0.0.1, its own trust anchor), the ServiceAccount signing keys, and one bearer
 * token per client identity (a static token file: the users a kubeadm cluster gives certificates).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selfSignedLoopbackCertificate } from '../support/apiserver/certificate.js';

export interface Identity {
  user: string;
  groups: string[];
}

/** Who talks to the apiserver; the bootstrap RBAC policy knows each of these users and groups. */
export const identities = {
  admin: { user: 'kubernetes-admin', groups: ['system:masters'] },
  controllerManager: { user: 'system:kube-controller-manager', groups: [] },
  scheduler: { user: 'system:kube-scheduler', groups: [] },
  kwok: { user: 'kwok-controller', groups: ['system:masters'] },
} satisfies Record<string, Identity>;

export type IdentityName = keyof typeof identities;

export interface Pki {
  caFile: string;
  caPem: string;
  certFile: string;
  keyFile: string;
  serviceAccountKeyFile: string;
  serviceAccountPublicKeyFile: string;
  tokenFile: string;
  tokens: Record<IdentityName, string>;
}

export async function writePki(directory: string): Promise<Pki> {
  const serving = await selfSignedLoopbackCertificate();
  const certFile = join(directory, 'apiserver.crt');
  const keyFile = join(directory, 'apiserver.key');
  writeFileSync(certFile, serving.certPem);
  writeFileSync(keyFile, serving.keyPem, { mode: 0o600 });

  const serviceAccount = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const serviceAccountKeyFile = join(directory, 'sa.key');
  const serviceAccountPublicKeyFile = join(directory, 'sa.pub');
  writeFileSync(serviceAccountKeyFile, serviceAccount.privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
  writeFileSync(serviceAccountPublicKeyFile, serviceAccount.publicKey.export({ type: 'spki', format: 'pem' }));

  const tokens = {} as Record<IdentityName, string>;
  const lines: string[] = [];
  for (const [name, identity] of Object.entries(identities) as Array<[IdentityName, Identity]>) {
    tokens[name] = randomBytes(24).toString('hex');
    // token,user,uid,"group1,group2"
    lines.push(`${tokens[name]},${identity.user},${identity.user},"${identity.groups.join(',')}"`);
  }
  const tokenFile = join(directory, 'tokens.csv');
  writeFileSync(tokenFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  return {
    caFile: certFile, caPem: serving.certPem, certFile, keyFile, serviceAccountKeyFile, serviceAccountPublicKeyFile, tokenFile, tokens,
  };
}

/** A kubeconfig for `url` that trusts only the cluster's CA and authenticates with `token`. */
export function kubeconfigYaml(url: string, caPem: string, token: string, user: string, namespace = 'default'): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: badgateway-test\n  cluster:\n    server: ${url}\n    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}`,
    'users:',
    `- name: ${user}\n  user:\n    token: ${token}`,
    'contexts:',
    `- name: badgateway-test\n  context:\n    cluster: badgateway-test\n    user: ${user}\n    namespace: ${namespace}`,
    'current-context: badgateway-test',
    '',
  ].join('\n');
}

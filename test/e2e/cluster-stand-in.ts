/**
 * What the real cluster would do around the operator, played by the test: apply `helm template`
 * output to the test API server, start the operator exactly as the chart's Deployment says (ports
 * moved to free loopback ports, the kubeconfig standing in for the service account), and call the
 * mutating webhook as the API server's admission chain would, trusting only the caBundle that the
 * operator patched into the MutatingWebhookConfiguration.
 */
import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { Agent, request } from 'undici';
import { applyPatch } from '../../operator/inject/json-patch.js';
import type { KubeClients } from '../../operator/kube/clients.js';
import { closedPort } from '../support/faulty-upstream.js';
import { startCli } from '../support/cli.js';
import type { K8sObject } from '../support/helm.js';
import { loopbackKubeconfig } from '../reliability/operator-harness.js';

/** Creates every rendered object; kinds the test API server does not serve are returned, not fatal. */
export async function applyManifests(clients: KubeClients, objects: readonly K8sObject[]): Promise<string[]> {
  const skipped: string[] = [];
  for (const object of objects) {
    try {
      await clients.objects.create(object as KubernetesObject);
    } catch (error) {
      skipped.push(`${object.kind}/${String(object.metadata?.name)}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return skipped;
}

export interface RunningOperator {
  webhookPort: number;
  args: string[];
  output(): string;
  stop(): void;
}

/** The operator as the rendered chart Deployment runs it. */
export async function startOperatorFromChart(operatorDeployment: K8sObject, kubeconfigPath: string, identity: string): Promise<RunningOperator> {
  const container = (operatorDeployment as unknown as V1Deployment).spec?.template.spec?.containers[0];
  if (container === undefined) throw new Error('the rendered operator Deployment has no container');
  const webhookPort = await closedPort();
  const metricsPort = await closedPort();
  const args = (container.args ?? []).map((arg) => arg
    .replace(/^--webhook-port=\d+$/, `--webhook-port=${webhookPort}`)
    .replace(/^--metrics-port=\d+$/, `--metrics-port=${metricsPort}`));
  args.push('--kubeconfig', loopbackKubeconfig(kubeconfigPath));
  const namespace = String(operatorDeployment.metadata?.namespace ?? 'badgateway-system');
  const env: NodeJS.ProcessEnv = { POD_NAME: identity, HOSTNAME: identity };
  for (const variable of container.env ?? []) {
    if (variable.value !== undefined) env[variable.name] = variable.value;
    else if (variable.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[variable.name] = namespace;
    else if (variable.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[variable.name] = identity;
    else throw new Error(`env ${variable.name}: valueFrom not resolved by this stand-in`);
  }
  const started = startCli(args, env);
  return { webhookPort, args, output: started.output, stop: () => started.child.kill('SIGKILL') };
}

export interface Admission {
  /** Runs the object through the webhook like the API server would; returns what gets stored. */
  admit(operation: 'CREATE' | 'UPDATE', object: V1Deployment, oldObject?: V1Deployment): Promise<V1Deployment>;
  close(): Promise<void>;
}

export function admissionVia(webhookPort: number, caBundleBase64: string, service: { name: string; namespace: string; path: string }): Admission {
  const agent = new Agent({ connect: { ca: Buffer.from(caBundleBase64, 'base64').toString('utf8'), servername: `${service.name}.${service.namespace}.svc` } });
  let counter = 0;
  return {
    admit: async (operation, object, oldObject) => {
      counter += 1;
      const response = await request(`https://127.0.0.1:${webhookPort}${service.path}`, {
        method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
          request: { uid: `e2e-${counter}`, kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, operation, namespace: object.metadata?.namespace, name: object.metadata?.name, object, ...(oldObject === undefined ? {} : { oldObject }) },
        }),
      });
      const review = await response.body.json() as { response?: { allowed?: boolean; patch?: string } };
      if (response.statusCode !== 200 || review.response?.allowed !== true) throw new Error(`webhook answered ${response.statusCode}: ${JSON.stringify(review)}`);
      if (review.response.patch === undefined) return object;
      return applyPatch(object, JSON.parse(Buffer.from(review.response.patch, 'base64').toString('utf8')));
    },
    close: () => agent.close(),
  };
}

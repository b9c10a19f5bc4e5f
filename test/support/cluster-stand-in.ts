/**
 * What the real cluster would do around the operator, played by the test: apply `helm template`
 * output to the test API server, start the operator exactly as the chart's Deployment says (ports
 * moved to free loopback ports, the kubeconfig standing in for the service account). Admission is
 * the test API server's own: it calls the operator's webhook through the chart's
 * MutatingWebhookConfiguration, trusting only the caBundle the operator patched in.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { closedPort } from './faulty-upstream.js';
import { startCli } from './cli.js';
import type { TestApiServer } from './apiserver/index.js';
import type { K8sObject } from './helm.js';
import { loopbackKubeconfig } from '../reliability/operator-harness.js';

/**
 * Creates every rendered object as raw JSON, as `kubectl create -f` sends it (client-node's typed
 * serializer would drop a CRD schema's `default`s); returns the ones the server refused.
 */
export async function applyManifests(api: Pick<TestApiServer, 'create'>, objects: readonly K8sObject[]): Promise<string[]> {
  const refused: string[] = [];
  for (const object of objects) {
    const { status, body } = await api.create(object);
    if (status !== 201) refused.push(`${object.kind}/${object.metadata.name}: ${status} ${(body as { message?: string }).message ?? ''}`);
  }
  return refused;
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

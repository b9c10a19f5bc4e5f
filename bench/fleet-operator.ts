/**
 * The operator as the fleet bench runs it: dist/cli/main.js operator under a ServiceAccount of its
 * own (so the apiserver's priority-and-fairness metrics count its requests apart from the bench's),
 * its webhook reached by the apiserver through a `url` clientConfig with a certificate for
 * localhost, and its process measured from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { generateCa, generateServingCert } from '../operator/certs/generate.js';
import { generateCrd } from '../api/crd.js';
import { CRD_NAME } from '../api/names.js';
import type { ApiTarget } from '../test/cluster/api-request.js';
import { kubeconfigYaml } from '../test/cluster/pki.js';
import { waitFor } from '../test/cluster/api-request.js';
import { freePort } from './processes.ts';
import { getJson, must } from './fleet-cluster.ts';
import { sum } from './fleet-metrics.ts';

export const OPERATOR_NAMESPACE = 'badgateway-system';
const ACCOUNT = 'badgateway-operator';
/** Priority-and-fairness flow schemas: the operator's lease renewals, its lists (relists), and everything else it sends. */
export const FLOW_SCHEMAS = { lease: 'badgateway-operator-lease', list: 'badgateway-operator-list', other: 'badgateway-operator' } as const;
export const WEBHOOK_NAME = 'deployments.badgateway.io';

const root = resolve(import.meta.dirname, '..');
const sleep = (ms: number): Promise<void> => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
/** Another build of the CLI (another commit's dist/cli/main.js), for before/after figures. */
const operatorMain = process.env['FLEET_OPERATOR_MAIN'] ?? join(root, 'dist', 'cli', 'main.js');
interface ChartOperatorValues { nodeOptions?: string; mallocArenaMax?: number }
const chartOperatorValues = (): ChartOperatorValues =>
  (parse(readFileSync(join(root, 'charts', 'badgateway', 'values.yaml'), 'utf8')) as { operator?: ChartOperatorValues }).operator ?? {};

/**
 * The operator's NODE_OPTIONS as the chart sets them (values.yaml, operator.nodeOptions);
 * FLEET_OPERATOR_NODE_OPTIONS overrides them ("" for none), for A/B figures of V8's settings.
 */
function operatorNodeOptions(): string {
  return process.env['FLEET_OPERATOR_NODE_OPTIONS'] ?? chartOperatorValues().nodeOptions ?? '';
}

/**
 * The rest of the operator's environment as the chart sets it (operator.mallocArenaMax; 0 leaves it
 * out). FLEET_OPERATOR_ENV replaces it ("" for none), space-separated NAME=VALUE pairs such as
 * `MALLOC_ARENA_MAX=8`, for A/B figures; each pair is checked, so a typo fails the run instead of
 * measuring the default.
 */
export function operatorEnvironment(chosen = process.env['FLEET_OPERATOR_ENV']): Record<string, string> {
  if (chosen === undefined) {
    const arenas = chartOperatorValues().mallocArenaMax ?? 0;
    return arenas > 0 ? { MALLOC_ARENA_MAX: String(arenas) } : {};
  }
  return Object.fromEntries(chosen.split(' ').filter((pair) => pair !== '').map((pair) => {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(pair);
    if (match === null) throw new Error(`FLEET_OPERATOR_ENV: expected NAME=VALUE pairs separated by spaces, got "${pair}"`);
    return [match[1] as string, match[2] as string];
  }));
}
/** More operator flags, space-separated (e.g. `--max-concurrent-reconciles=8`), for A/B figures of a setting. */
const operatorFlags = (process.env['FLEET_OPERATOR_FLAGS'] ?? '').split(' ').filter((flag) => flag !== '');

function flowSchema(name: string, precedence: number, resourceRules: object[]): object {
  return {
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1', kind: 'FlowSchema', metadata: { name },
    spec: {
      matchingPrecedence: precedence, priorityLevelConfiguration: { name: 'workload-high' }, distinguisherMethod: { type: 'ByUser' },
      rules: [{ subjects: [{ kind: 'ServiceAccount', serviceAccount: { name: ACCOUNT, namespace: OPERATOR_NAMESPACE } }], resourceRules }],
    },
  };
}

/** The CRD, the operator's namespace, ServiceAccount (cluster-admin), flow schemas and a token kubeconfig. */
export async function installOperatorIdentity(target: ApiTarget, directory: string): Promise<string> {
  await must(target, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', generateCrd(), [201, 409]);
  await waitFor(async () => {
    const crd = await getJson<{ status?: { conditions?: Array<{ type: string; status: string }> } }>(target, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`);
    return crd.status?.conditions?.some((condition) => condition.type === 'Established' && condition.status === 'True') === true ? true : undefined;
  }, 30_000, () => 'the BadGatewayPolicy CRD not Established in 30 s');
  await must(target, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: OPERATOR_NAMESPACE } }, [201, 409]);
  await must(target, 'POST', `/api/v1/namespaces/${OPERATOR_NAMESPACE}/serviceaccounts`, { metadata: { name: ACCOUNT } }, [201, 409]);
  await must(target, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    metadata: { name: 'fleet-bench-operator' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: ACCOUNT, namespace: OPERATOR_NAMESPACE }],
  }, [201, 409]);
  const leases = [{ verbs: ['*'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], namespaces: ['*'] }];
  const everything = [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], clusterScope: true, namespaces: ['*'] }];
  const lists = [{ verbs: ['list'], apiGroups: ['*'], resources: ['*'], clusterScope: true, namespaces: ['*'] }];
  await must(target, 'POST', '/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas', flowSchema(FLOW_SCHEMAS.lease, 90, leases), [201, 409]);
  await must(target, 'POST', '/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas', flowSchema(FLOW_SCHEMAS.list, 89, lists), [201, 409]);
  await must(target, 'POST', '/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas', flowSchema(FLOW_SCHEMAS.other, 91, everything), [201, 409]);
  const token = await must(target, 'POST', `/api/v1/namespaces/${OPERATOR_NAMESPACE}/serviceaccounts/${ACCOUNT}/token`,
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 86_400 } }, [201]);
  const path = join(directory, 'operator.kubeconfig');
  const user = `system:serviceaccount:${OPERATOR_NAMESPACE}:${ACCOUNT}`;
  writeFileSync(path, kubeconfigYaml(target.url, target.caPem, (JSON.parse(token.body) as { status: { token: string } }).status.token, user), { mode: 0o600 });
  return path;
}

/**
 * A MutatingWebhookConfiguration of one webhook called by url on localhost, as the bench registers
 * the operator's (and the no-op floor beside it, fleet-webhook-floor.ts, with the same rules,
 * selectors and failurePolicy).
 */
export function webhookConfiguration(configurationName: string, webhookName: string, port: number, caPem: string): object {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: configurationName },
    webhooks: [{
      name: webhookName, admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Fail', timeoutSeconds: 10, reinvocationPolicy: 'Never',
      clientConfig: { url: `https://localhost:${port}/mutate`, caBundle: Buffer.from(caPem).toString('base64') },
      rules: [{ apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' }],
      namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: [OPERATOR_NAMESPACE] }] },
      // As the chart's matchConditions: only Deployments that ask for injection or carry it reach the webhook.
      matchConditions: [{
        name: 'opted-in-or-injected',
        expression: "has(object.metadata.annotations) && ('badgateway.io/inject' in object.metadata.annotations || 'badgateway.io/injected' in object.metadata.annotations)",
      }],
    }],
  };
}

/** A serving certificate for localhost in `certDir`, and the webhook configuration that calls it by url; returns the CA (PEM). */
export async function installWebhook(target: ApiTarget, certDir: string, port: number): Promise<string> {
  const ca = await generateCa('fleet-bench-webhook-ca');
  const serving = await generateServingCert(ca, ['localhost']);
  writeFileSync(join(certDir, 'tls.crt'), serving.certPem);
  writeFileSync(join(certDir, 'tls.key'), serving.keyPem, { mode: 0o600 });
  const configuration = webhookConfiguration('badgateway', WEBHOOK_NAME, port, ca.certPem);
  await must(target, 'POST', '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations', configuration, [201]);
  return ca.certPem;
}

export interface FleetOperator {
  pid: number;
  /** Runs a full garbage collection in the operator (SIGUSR2, see fleet-gc-preload.ts). */
  collectGarbage(): void;
  metricsPort: number;
  /** Where the operator writes its memory's make-up after each collection (fleet-gc-preload.ts). */
  memoryFile: string;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

export async function startOperator(kubeconfig: string, webhookPort: number, certDir: string, logFile: string): Promise<FleetOperator> {
  const metricsPort = await freePort();
  const memoryFile = join(certDir, 'operator-memory.json');
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, [
    '--expose-gc', '--import', join(root, 'bench', 'fleet-gc-preload.ts'),
    operatorMain, 'operator', `--kubeconfig=${kubeconfig}`,
    `--webhook-port=${webhookPort}`, '--cert-mode=external', `--cert-dir=${certDir}`, `--metrics-port=${metricsPort}`,
    // Leader-elected as the chart runs it; its Lease traffic is counted under a flow schema of its own.
    `--lease-namespace=${OPERATOR_NAMESPACE}`, '--log-level=warn', ...operatorFlags,
  ], { stdio: ['ignore', fd, fd], env: { ...process.env, NODE_OPTIONS: operatorNodeOptions(), ...operatorEnvironment(), FLEET_MEMORY_FILE: memoryFile } });
  closeSync(fd);
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the operator exited (${child.exitCode}); see ${logFile}`);
    const leading = await metrics().then((text) => /^badgateway_operator_leader 1$/m.test(text), () => false);
    if (leading) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the operator did not lead within 60 s; see ${logFile}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
  return {
    pid: child.pid as number,
    collectGarbage: () => { child.kill('SIGUSR2'); },
    metricsPort,
    memoryFile,
    metrics,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function benchDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'badgateway-fleet-'));
}

/** The operator reconciled everything it was told about: its queue is empty and no reconcile ran for 3 s. */
export async function operatorSettled(operator: FleetOperator, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let quietSince = Date.now();
  for (;;) {
    const text = await operator.metrics();
    const reconciles = sum(text, 'badgateway_operator_reconciles_total');
    if (reconciles !== last || sum(text, 'badgateway_operator_queue_depth') > 0) {
      last = reconciles;
      quietSince = Date.now();
    } else if (Date.now() - quietSince >= 3000) return;
    if (Date.now() > deadline) throw new Error(`the operator did not settle within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

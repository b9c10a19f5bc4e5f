/** Checks of the installation itself: the API server, the CRD, the operator Deployment and its leader Lease. */
import type { V1Deployment } from '@kubernetes/client-node';
import { generateCrd } from '../../api/crd.js';
import { API_VERSION, CRD_NAME } from '../../api/names.js';
import { isNotFound } from '../kube/errors.js';
import { flagValue, hasFlag } from './flags.js';
import { describeError, fail, pass, type CheckContext, type CheckResult, type OperatorInstall } from './types.js';

const INSTALL_HINT = 'install it: helm install badgateway charts/badgateway -n badgateway-system --create-namespace';
/** The chart's labels on the operator Deployment. */
export const OPERATOR_SELECTOR = 'app.kubernetes.io/name=badgateway,app.kubernetes.io/component=operator';

export async function checkApiServer(context: CheckContext): Promise<CheckResult> {
  const name = 'Kubernetes API reachable';
  try {
    const version = await context.clients.version.getCode();
    return pass(name, `server ${version.gitVersion} at ${context.clients.config.getCurrentCluster()?.server ?? '?'}`);
  } catch (error) {
    return fail(name, describeError(error), 'check the current context (kubectl config current-context) or pass --kubeconfig');
  }
}

/** Compared as JSON so key order does not matter. */
function sameSchema(a: unknown, b: unknown): boolean {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([x], [y]) => (x < y ? -1 : 1)).map(([key, item]) => [key, canonical(item)]));
    return value;
  };
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

interface RawCrd { spec: { versions: { name: string; served: boolean; storage: boolean; schema?: unknown }[] } }

export async function checkCrd(context: CheckContext): Promise<CheckResult> {
  const name = `CRD ${CRD_NAME} installed at ${API_VERSION}`;
  let crd: RawCrd;
  try {
    // Read as raw JSON (the custom objects API does not map it to typed models, which rename schema
    // keywords such as `default`), so the schema compares with the generated one.
    crd = await context.clients.custom.getClusterCustomObject({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', name: CRD_NAME }) as RawCrd;
  } catch (error) {
    if (isNotFound(error)) return fail(name, 'not found', `${INSTALL_HINT} (or: badgateway crd | kubectl apply -f -)`);
    return fail(name, describeError(error), 'the kubeconfig\'s user needs get on customresourcedefinitions');
  }
  const version = crd.spec.versions.find((candidate) => candidate.name === API_VERSION);
  if (version === undefined || !version.served) {
    return fail(name, `${API_VERSION} is not served (versions: ${crd.spec.versions.map((candidate) => candidate.name).join(', ')})`, 'upgrade the CRD: badgateway crd | kubectl apply -f -');
  }
  const expected = (generateCrd() as unknown as RawCrd).spec.versions.find((candidate) => candidate.name === API_VERSION)?.schema;
  if (!sameSchema(version.schema, expected)) {
    return fail(name, `${API_VERSION} is served, but its schema is not this badgateway version's`, 'Helm does not upgrade CRDs: badgateway crd | kubectl apply -f -');
  }
  return pass(name, `${API_VERSION} served${version.storage ? ' and stored' : ''}, schema matches this version`);
}

export async function findOperator(context: CheckContext): Promise<{ result: CheckResult; operator?: OperatorInstall }> {
  const name = 'operator Deployment available';
  let deployments: V1Deployment[];
  try {
    deployments = (await context.clients.apps.listDeploymentForAllNamespaces({ labelSelector: OPERATOR_SELECTOR })).items;
  } catch (error) {
    return { result: fail(name, describeError(error), 'the kubeconfig\'s user needs list on deployments in all namespaces') };
  }
  const deployment = deployments[0];
  if (deployment === undefined) return { result: fail(name, `no Deployment labelled ${OPERATOR_SELECTOR}`, INSTALL_HINT) };
  const namespace = deployment.metadata?.namespace ?? '';
  const deploymentName = deployment.metadata?.name ?? '';
  const operator: OperatorInstall = { namespace, name: deploymentName, args: deployment.spec?.template.spec?.containers[0]?.args ?? [] };
  const wanted = deployment.spec?.replicas ?? 1;
  const available = deployment.status?.availableReplicas ?? 0;
  const where = `${namespace}/${deploymentName}`;
  if (available < 1) {
    return { operator, result: fail(name, `${where}: 0 of ${wanted} replicas available`, `kubectl -n ${namespace} describe deployment ${deploymentName}; kubectl -n ${namespace} logs deployment/${deploymentName}`) };
  }
  return { operator, result: pass(name, `${where}: ${available} of ${wanted} replicas available`) };
}

export async function checkLeader(context: CheckContext, operator: OperatorInstall): Promise<CheckResult> {
  const name = 'operator leader elected';
  if (hasFlag(operator.args, '--no-leader-elect')) return pass(name, 'leader election is off (--no-leader-elect): the single replica reconciles');
  const leaseName = flagValue(operator.args, '--lease-name') ?? 'badgateway-operator';
  const where = `Lease ${operator.namespace}/${leaseName}`;
  const logsHint = `kubectl -n ${operator.namespace} logs deployment/${operator.name} (the operator needs get/create/update on leases in ${operator.namespace})`;
  try {
    const lease = await context.clients.coordination.readNamespacedLease({ namespace: operator.namespace, name: leaseName });
    const holder = lease.spec?.holderIdentity ?? '';
    const renewed = lease.spec?.renewTime === undefined ? undefined : new Date(lease.spec.renewTime);
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (holder === '' || renewed === undefined) return fail(name, `${where} has no holder`, logsHint);
    const ageMs = context.now().getTime() - renewed.getTime();
    if (ageMs > durationMs) return fail(name, `${where} held by ${holder} was last renewed ${Math.round(ageMs / 1000)}s ago (lease ${durationMs / 1000}s): no replica is leading`, logsHint);
    return pass(name, `${holder} holds ${where}, renewed ${Math.max(0, Math.round(ageMs / 1000))}s ago`);
  } catch (error) {
    if (isNotFound(error)) return fail(name, `${where} does not exist: no replica has become leader`, logsHint);
    return fail(name, describeError(error), 'the kubeconfig\'s user needs get on leases');
  }
}

/**
 * Checks of what users deployed: each BadGatewayPolicy's conditions (as the operator wrote them),
 * Deployments annotated for injection that carry no sidecar, and Services that bypass the sidecar.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, ANNOTATIONS, POLICY_PLURAL } from '../../api/names.js';
import type { PolicyStatus } from '../../api/status.js';
import { describeError, fail, pass, type CheckContext, type CheckResult } from './types.js';

interface PolicyObject {
  metadata?: { name?: string; namespace?: string; generation?: number };
  status?: PolicyStatus;
}

/** What to do about a policy that is not Ready, by the reason the operator gave. */
const READY_HINTS: Readonly<Record<string, string>> = {
  TargetsNotInjected: 'annotate the Deployment badgateway.io/inject=true; if it already is, `kubectl rollout restart` it so the webhook sees it again',
  Conflicted: 'two policies claim the same Deployment: narrow one\'s targetRef or selector',
};
const DEFAULT_READY_HINT = 'fix what the message names (kubectl describe bgwp shows every condition)';

export async function listPolicies(context: CheckContext): Promise<PolicyObject[]> {
  const list = await context.clients.custom.listCustomObjectForAllNamespaces({ group: API_GROUP, version: API_VERSION, resourcePlural: POLICY_PLURAL }) as { items?: PolicyObject[] };
  return list.items ?? [];
}

export function checkPolicies(policies: readonly PolicyObject[]): CheckResult[] {
  if (policies.length === 0) return [pass('BadGatewayPolicies Ready', 'no policies: injected sidecars run with defaults')];
  return policies.map((policy) => {
    const key = `${policy.metadata?.namespace ?? ''}/${policy.metadata?.name ?? ''}`;
    const name = `policy ${key} Ready`;
    const generation = policy.metadata?.generation;
    const observed = policy.status?.observedGeneration;
    const ready = policy.status?.conditions?.find((condition) => condition.type === 'Ready');
    if (ready === undefined) return fail(name, 'no Ready condition: the operator has not reconciled it', 'is the operator running and leading? (see the operator checks above)');
    if (generation !== undefined && observed !== undefined && observed < generation) {
      return fail(name, `status is for generation ${observed}, the spec is at ${generation}: the operator has not caught up`, 'is the operator running and leading? (see the operator checks above)');
    }
    if (ready.status !== 'True') return fail(name, `${ready.reason}: ${ready.message}`, READY_HINTS[ready.reason] ?? DEFAULT_READY_HINT);
    return pass(name, ready.message);
  });
}

export function checkBypassingServices(policies: readonly PolicyObject[]): CheckResult {
  const name = 'Services route through the sidecar';
  const bypassing = policies.flatMap((policy) => (policy.status?.bypassingServices ?? []).map((service) => `${policy.metadata?.namespace ?? ''}/${service.name} (targetPort ${service.port})`));
  if (bypassing.length > 0) {
    return fail(name, `bypassing the sidecar: ${bypassing.join(', ')}`, 'set the Service\'s targetPort to the port name the sidecar took over (the app\'s original port name, e.g. http), not a number');
  }
  return pass(name, 'no Service of a policy\'s targets bypasses the sidecar');
}

export async function checkAnnotatedDeployments(context: CheckContext): Promise<CheckResult> {
  const name = 'Deployments annotated for injection are injected';
  let deployments: V1Deployment[];
  try {
    deployments = (await context.clients.apps.listDeploymentForAllNamespaces({})).items;
  } catch (error) {
    return fail(name, describeError(error), 'the kubeconfig\'s user needs list on deployments in all namespaces');
  }
  const annotated = deployments.filter((deployment) => deployment.metadata?.annotations?.[ANNOTATIONS.inject] === 'true');
  const missing = annotated.filter((deployment) => deployment.metadata?.annotations?.[ANNOTATIONS.injected] === undefined);
  if (missing.length > 0) {
    const names = missing.map((deployment) => `${deployment.metadata?.namespace ?? ''}/${deployment.metadata?.name ?? ''}`);
    const first = missing[0]?.metadata;
    return fail(name, `not injected: ${names.join(', ')}`, `they were written while the webhook was not answering (failurePolicy Ignore) or outside its namespaces; once the webhook checks pass: kubectl -n ${first?.namespace ?? ''} rollout restart deployment ${first?.name ?? ''}`);
  }
  return pass(name, `${annotated.length} annotated, all injected`);
}

/**
 * `badgateway check`: every check in order, like `linkerd check`. A check whose premise failed is
 * skipped with the reason rather than failing again (no API server: nothing else runs; no CRD: no
 * policy checks).
 */
import { checkApiServer, checkCrd, checkLeader, findOperator } from './cluster-checks.js';
import { checkAppProtocols } from './protocol-checks.js';
import { describeError, fail, skip, type CheckContext, type CheckResult } from './types.js';
import { checkWebhook } from './webhook-checks.js';
import { checkAnnotatedDeployments, checkBypassingServices, checkPolicies, listPolicies } from './workload-checks.js';

export interface CheckReport {
  ok: boolean;
  checks: CheckResult[];
}

export async function runChecks(context: CheckContext): Promise<CheckReport> {
  const checks: CheckResult[] = [];
  const api = await checkApiServer(context);
  checks.push(api);
  if (api.status === 'fail') return report([...checks, skip('everything else', 'the API server is not reachable')]);

  const crd = await checkCrd(context);
  checks.push(crd);
  const { result: operatorResult, operator } = await findOperator(context);
  checks.push(operatorResult);
  checks.push(operator === undefined ? skip('operator leader elected', 'no operator Deployment') : await checkLeader(context, operator));
  checks.push(...await checkWebhook(context, operator));

  if (crd.status === 'fail') {
    checks.push(skip('BadGatewayPolicies Ready', 'the CRD is not installed'));
  } else {
    try {
      const policies = await listPolicies(context);
      checks.push(...checkPolicies(policies), checkBypassingServices(policies));
    } catch (error) {
      checks.push(fail('BadGatewayPolicies Ready', describeError(error), 'the kubeconfig\'s user needs list on badgatewaypolicies in all namespaces'));
    }
  }
  checks.push(await checkAnnotatedDeployments(context), await checkAppProtocols(context));
  return report(checks);
}

function report(checks: CheckResult[]): CheckReport {
  return { ok: checks.every((check) => check.status !== 'fail'), checks };
}

const MARK = { pass: '✓', fail: '✗', skip: '-' } as const;

/** ✓/✗ lines, each failure followed by its hint, and a closing verdict. */
export function formatReport(report: CheckReport): string {
  const lines = report.checks.flatMap((check) => [
    `${MARK[check.status]} ${check.name}: ${check.message}`,
    ...(check.hint === undefined ? [] : [`    hint: ${check.hint}`]),
  ]);
  const failed = report.checks.filter((check) => check.status === 'fail').length;
  lines.push('', report.ok ? 'Status check results are ✓' : `Status check results are ✗ (${failed} failed)`);
  return `${lines.join('\n')}\n`;
}

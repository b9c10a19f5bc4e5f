/**
 * runOperator shutting down while its API server goes away: only a fake can slow and drop the
 * server on demand, so this stays on the test API server (the election itself: run-operator.test.ts).
 */
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { silentLogger } from '../../../api/logger.js';
import { capturingLogger } from '../../support/capturing-logger.js';
import { DEFAULT_INJECTION_SETTINGS } from '../../../operator/inject/settings.js';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../../operator/kube/clients.js';
import { runOperator, type RunningOperator } from '../../../operator/run-operator.js';
import { eventually } from '../../support/cli.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver/index.js';
import { installPolicyCrd } from '../../support/policy-crd.js';

jest.setTimeout(60_000);

let server: TestApiServer;
let clients: KubeClients;
const running: RunningOperator[] = [];
const LEASE = { name: 'badgateway-operator', namespace: 'badgateway-system' };
const group = { group: 'badgateway.io', version: 'v1alpha1', plural: 'badgatewaypolicies', namespace: 'default' };

beforeEach(async () => {
  server = await startTestApiServer();
  clients = createKubeClients(loadKubeConfig(server.kubeconfigPath));
  await installPolicyCrd(server);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((operator) => operator.close()));
  await server.close();
});

async function start(identity: string, logger = silentLogger()): Promise<RunningOperator> {
  const operator = await runOperator({
    clients, identity, logger, host: '127.0.0.1', metricsPort: 0,
    ownNamespace: LEASE.namespace, webhook: false, maxConcurrentReconciles: 2, injection: DEFAULT_INJECTION_SETTINGS,
    leaderElection: { leaseName: LEASE.name, leaseNamespace: LEASE.namespace, leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 200 },
  });
  running.push(operator);
  return operator;
}
const rendered = async (name: string): Promise<string | undefined> =>
  (await clients.core.readNamespacedConfigMap({ name: `badgateway-${name}`, namespace: 'default' }).catch(() => undefined))?.data?.['policy.json'];

describe('runOperator shutting down', () => {
  it('with its API server going away at the same time (kill %1 %2): no watch failure logged', async () => {
    const { lines, logger } = capturingLogger('operator');
    const operator = await start('replica-a', logger);
    await eventually(() => operator.isLeader(), 20_000, 'leading');
    // The controller runs (its informers listed, their watches open): a policy is rendered.
    await clients.custom.createNamespacedCustomObject({ ...group, body: { apiVersion: 'badgateway.io/v1alpha1', kind: 'BadGatewayPolicy', metadata: { name: 'one' }, spec: {} } });
    await eventually(async () => (await rendered('one')) !== undefined, 20_000, 'rendered by the leader');
    running.splice(running.indexOf(operator), 1);
    server.faults.latency(1_000); // the Lease release is slow, as against an API server going away
    const closing = operator.close();
    await server.close(); // and meanwhile the watches break
    await closing;
    expect(lines.filter((line) => line.level === 'warn').map((line) => line.msg)).not.toContain('watch failed; restarting');
    server = await startTestApiServer(); // for afterEach
  });
});

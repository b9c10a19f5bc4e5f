import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../operator/kube/clients.js';
import { installPolicyCrd } from '../support/policy-crd.js';
import { startTestApiServer, type TestApiServer } from '../support/apiserver/index.js';
import { eventually, runCli, startCli } from '../support/cli.js';

jest.setTimeout(120_000);

let server: TestApiServer;
let clients: KubeClients;
const processes: Array<ReturnType<typeof startCli>> = [];

beforeEach(async () => {
  server = await startTestApiServer();
  clients = createKubeClients(loadKubeConfig(server.kubeconfigPath));
  await installPolicyCrd(server);
});
afterEach(async () => {
  for (const running of processes.splice(0)) {
    running.child.kill('SIGKILL');
    await running.exited;
  }
  await server.close();
});

const operatorArgs = (): string[] => [
  'operator', '--kubeconfig', server.kubeconfigPath, '--no-webhook', '--metrics-port', '0',
  '--lease-duration', '2s', '--renew-deadline', '1500ms', '--retry-period', '200ms', '--log-level', 'info',
];
function startOperator(): ReturnType<typeof startCli> {
  const running = startCli(operatorArgs(), { POD_NAMESPACE: 'badgateway-system' });
  processes.push(running);
  return running;
}
const metricsPortOf = (output: string): number | undefined => {
  const match = /"metricsPort":(\d+)/.exec(output);
  return match === null ? undefined : Number(match[1]);
};
const leaderGauge = async (port: number): Promise<number> => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(/^badgateway_operator_leader (\d+)/m.exec(text)?.[1] ?? -1);
};

describe('badgateway operator', () => {
  it('rejects bad flags with one line and exit code 2', async () => {
    const result = await runCli(['operator', '--renew-deadline', '20s', '--lease-duration', '15s']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('--renew-deadline');
    const badPort = await runCli(['operator', '--metrics-port', 'eighty']);
    expect(badPort.code).toBe(2);
  });

  it.each([
    [['--kube-api-qps', 'fast'], '--kube-api-qps: "fast" must be a number above 0 (requests a second)'],
    [['--kube-api-qps', '0'], '--kube-api-qps: "0" must be a number above 0 (requests a second)'],
    [['--kube-api-burst', '2.5'], '--kube-api-burst: "2.5" must be a whole number of at least 1'],
  ])('names the client rate-limit flag of a bad value %j', async (args, message) => {
    const result = await runCli(['operator', '--no-webhook', ...args]);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`badgateway: ${message}`);
  });

  it.each([
    [['--kubeconfig', '/nonexistent'], {}, /^badgateway: --kubeconfig: cannot read \/nonexistent: ENOENT$/],
    [[], { KUBECONFIG: '', HOME: '/nonexistent-home' }, /^badgateway: no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or run in a cluster$/],
  ])('reports a start-up error for %j in one line with exit code 2', async (args, env, message) => {
    const result = await runCli(['operator', '--no-webhook', ...args], { env });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
  });

  it('reports an API server it cannot reach at start-up in one line with exit code 2', async () => {
    const unreachable = server.kubeConfigYaml.replace(server.url, 'https://127.0.0.1:1');
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const path = join(await mkdtemp(join(tmpdir(), 'kubeconfig-')), 'config');
    await writeFile(path, unreachable, { mode: 0o600 });
    const result = await runCli(['operator', '--kubeconfig', path, '--metrics-port', '0'], { env: { POD_NAMESPACE: 'badgateway-system' } });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^badgateway: cannot start the operator: /);
  });

  it('reconciles as the single leader, fails over to the second instance, and exits cleanly on SIGTERM', async () => {
    const first = startOperator();
    await eventually(() => metricsPortOf(first.output()) !== undefined, 30_000, 'first operator started');
    const firstPort = metricsPortOf(first.output())!;
    expect((await fetch(`http://127.0.0.1:${firstPort}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${firstPort}/readyz`)).status).toBe(200);
    await eventually(async () => (await leaderGauge(firstPort)) === 1, 30_000, 'first leads');

    const second = startOperator();
    await eventually(() => metricsPortOf(second.output()) !== undefined, 30_000, 'second operator started');
    const secondPort = metricsPortOf(second.output())!;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await leaderGauge(secondPort)).toBe(0);

    await clients.custom.createNamespacedCustomObject({ group: 'badgateway.io', version: 'v1alpha1', plural: 'badgatewaypolicies', namespace: 'default', body: { apiVersion: 'badgateway.io/v1alpha1', kind: 'BadGatewayPolicy', metadata: { name: 'web' }, spec: {} } });
    await eventually(async () => (await clients.core.readNamespacedConfigMap({ name: 'badgateway-web', namespace: 'default' })).data?.['policy.json'] !== undefined, 30_000, 'ConfigMap rendered');
    // The ConfigMap is written before the reconcile (status update included) finishes and is counted.
    const successCounted = /badgateway_operator_reconciles_total\{result="success"\} [1-9]/;
    await eventually(async () => successCounted.test(await (await fetch(`http://127.0.0.1:${firstPort}/metrics`)).text()), 10_000, 'reconcile counted');

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    // A clean shutdown logs nothing alarming; each line names its role once (component) and its part as subsystem.
    const shutdown = first.output().slice(first.output().indexOf('"shutting down"'));
    expect(shutdown).not.toMatch(/"level":"(warn|error)"/);
    expect(first.output()).not.toContain('watch failed');
    for (const line of first.output().split('\n').filter((text) => text.startsWith('{'))) {
      expect(line.match(/"component":/g) ?? []).toHaveLength(1);
    }
    expect(first.output()).toContain('"subsystem":"controller"');
    await eventually(async () => (await leaderGauge(secondPort)) === 1, 30_000, 'failover');
    const lease = await clients.coordination.readNamespacedLease({ name: 'badgateway-operator', namespace: 'badgateway-system' });
    expect(lease.spec?.holderIdentity).not.toBe('');
  });
});

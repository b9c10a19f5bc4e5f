/* eslint-disable @typescript-eslint/no-explicit-any -- the rendered PrometheusRule is untyped YAML */
/**
 * The chart's alert rules, as `helm template` renders them, run through `promtool test rules`
 * (Debian's `prometheus` package; skipped with a printed reason when promtool is missing) against
 * recorded series: each alert fires on the fault it names and stays quiet on a healthy fleet. The
 * dashboard's queries are parsed by promtool too.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { renderChart } from '../support/helm.js';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const missing = promtool.error === undefined ? undefined : 'promtool not found (apt-get install prometheus)';
if (missing !== undefined) console.log(`alert rule tests skipped: ${missing}`);

const WEB = { namespace: 'shop', deployment: 'web', policy: 'web' };
const series = (name: string, labels: Record<string, string>, values: string) =>
  ({ series: `${name}{${Object.entries(labels).map(([key, value]) => `${key}="${value}"`).join(',')}}`, values });

/** promtool's unit tests: input series at 1m steps, expected alerts (labels and annotations, compared exactly). */
const TESTS = [
  {
    name: 'circuit open (or half-open between failed trials) for 5m fires; one that closed in between does not',
    interval: '1m',
    input_series: [
      series('badgateway_circuit_state', { ...WEB, pod: 'web-a' }, '2x10'),
      series('badgateway_circuit_state', { ...WEB, pod: 'web-b' }, '2 1 2 1 2 1 2 1 2 1 2'),
      series('badgateway_circuit_state', { ...WEB, pod: 'web-c' }, '2 2 2 0 2 2 2 2 2 2 2'),
      series('badgateway_circuit_state', { ...WEB, pod: 'web-d' }, '0x10'),
    ],
    alert_rule_test: [
      { eval_time: '4m', alertname: 'BadGatewayCircuitOpen', exp_alerts: [] },
      {
        eval_time: '6m', alertname: 'BadGatewayCircuitOpen',
        exp_alerts: ['web-a', 'web-b'].map((pod) => ({
          exp_labels: { ...WEB, pod, severity: 'warning' },
          exp_annotations: {
            summary: `Circuit of shop/${pod} has not closed for 5m`,
            description: `The app behind the sidecar of pod ${pod} (Deployment web, policy web) keeps failing; clients get fast 502/503s. Check the app, then \`kubectl describe bgwp -n shop\`.`,
          },
        })),
      },
    ],
  },
  {
    name: '5xx above 5% of a Deployment\'s responses for 10m fires; 1% does not',
    interval: '1m',
    input_series: [
      series('badgateway_requests_total', { ...WEB, pod: 'web-a', code: '200', reason: '' }, '0+90x30'),
      series('badgateway_requests_total', { ...WEB, pod: 'web-a', code: '502', reason: 'connect-failed' }, '0+10x30'),
      series('badgateway_requests_total', { namespace: 'shop', deployment: 'api', policy: 'api', pod: 'api-a', code: '200', reason: '' }, '0+99x30'),
      series('badgateway_requests_total', { namespace: 'shop', deployment: 'api', policy: 'api', pod: 'api-a', code: '503', reason: '' }, '0+1x30'),
    ],
    alert_rule_test: [
      { eval_time: '10m', alertname: 'BadGatewayHighErrorRatio', exp_alerts: [] },
      {
        eval_time: '20m', alertname: 'BadGatewayHighErrorRatio',
        exp_alerts: [{
          exp_labels: { namespace: 'shop', deployment: 'web', severity: 'warning' },
          exp_annotations: {
            summary: '10% of shop/web responses are 5xx',
            description: 'badgateway_requests_total by reason tells whether the app answers 5xx itself (reason "") or the sidecar does (connect-failed, timeout, reset, circuit-open...).',
          },
        }],
      },
    ],
  },
  {
    name: 'a rejected configuration reload fires; successful ones do not',
    interval: '1m',
    input_series: [
      series('badgateway_config_reloads_total', { ...WEB, pod: 'web-a', result: 'error' }, '0 0 0 1 1 1 1'),
      series('badgateway_config_reloads_total', { ...WEB, pod: 'web-b', result: 'success' }, '0 1 2 3 4 5 6'),
      series('badgateway_config_reloads_total', { ...WEB, pod: 'web-b', result: 'error' }, '0x6'),
    ],
    alert_rule_test: [
      { eval_time: '2m', alertname: 'BadGatewayConfigReloadFailed', exp_alerts: [] },
      {
        eval_time: '5m', alertname: 'BadGatewayConfigReloadFailed',
        exp_alerts: [{
          exp_labels: { ...WEB, pod: 'web-a', severity: 'warning' },
          exp_annotations: {
            summary: 'Sidecar shop/web-a rejected a configuration reload',
            description: 'The sidecar keeps its last good configuration; its log names the field. Check the policy\'s status and the rendered ConfigMap.',
          },
        }],
      },
    ],
  },
  {
    name: 'operator: no leader, failing reconciles, webhook errors, an expiring certificate, policies not Ready',
    interval: '1m',
    input_series: [
      series('badgateway_operator_leader', { pod: 'op-0' }, '0x20'),
      series('badgateway_operator_leader', { pod: 'op-1' }, '1 1 0x18'),
      series('badgateway_operator_reconcile_errors_total', { pod: 'op-1', reason: 'forbidden' }, '0+1x20'),
      series('badgateway_operator_reconciles_total', { pod: 'op-1', result: 'success' }, '0x20'),
      series('badgateway_operator_webhook_requests_total', { pod: 'op-0', result: 'error' }, '0+5x20'),
      series('badgateway_operator_webhook_requests_total', { pod: 'op-0', result: 'patched' }, '0+5x20'),
      // Unix time 10 days after promtool's clock starts at 0.
      series('badgateway_operator_webhook_certificate_expiry_timestamp_seconds', { pod: 'op-0' }, '864000x20'),
      series('badgateway_operator_policies', { condition: 'Ready', status: 'False' }, '2x20'),
    ],
    alert_rule_test: [
      { eval_time: '4m', alertname: 'BadGatewayOperatorNoLeader', exp_alerts: [] },
      {
        eval_time: '8m', alertname: 'BadGatewayOperatorNoLeader',
        exp_alerts: [{ exp_labels: { severity: 'critical' }, exp_annotations: { summary: 'No badgateway operator holds the leader lease: policies are not reconciled', description: 'Run `badgateway check`; look at the operator pods\' logs and the Lease in the release namespace.' } }],
      },
      {
        eval_time: '16m', alertname: 'BadGatewayReconcileFailing',
        exp_alerts: [{ exp_labels: { reason: 'forbidden', severity: 'warning' }, exp_annotations: { summary: 'Policy reconciles fail (forbidden) and none succeeded for 15 minutes', description: 'The operator retries with backoff; its log says which policy and why (forbidden: RBAC, conflict: another writer, server-error: the API server).' } }],
      },
      {
        eval_time: '10m', alertname: 'BadGatewayWebhookErrors',
        exp_alerts: [{ exp_labels: { severity: 'warning' }, exp_annotations: { summary: 'The injection webhook fails internally and admits Deployments without the sidecar', description: 'The operator log has \'admission review failed\'; `badgateway check` lists Deployments annotated for injection but not injected.' } }],
      },
      {
        eval_time: '1m', alertname: 'BadGatewayWebhookCertificateExpiring',
        exp_alerts: [{ exp_labels: { severity: 'warning' }, exp_annotations: { summary: 'The webhook certificate expires in 9d 23h 59m 0s', description: 'The self-signed certificate renews 30 days ahead, cert-manager\'s per its Certificate; renewal is failing. Check the operator log or the Certificate.' } }],
      },
      {
        eval_time: '16m', alertname: 'BadGatewayPolicyNotReady',
        exp_alerts: [{ exp_labels: { severity: 'info' }, exp_annotations: { summary: '2 BadGatewayPolicies are not Ready', description: '`badgateway check` (or `kubectl get bgwp -A`) shows which and why.' } }],
      },
    ],
  },
  {
    name: 'a healthy fleet raises nothing',
    interval: '1m',
    input_series: [
      series('badgateway_circuit_state', { ...WEB, pod: 'web-a' }, '0x30'),
      series('badgateway_requests_total', { ...WEB, pod: 'web-a', code: '200', reason: '' }, '0+100x30'),
      series('badgateway_config_reloads_total', { ...WEB, pod: 'web-a', result: 'error' }, '0x30'),
      series('badgateway_operator_leader', { pod: 'op-0' }, '1x30'),
      series('badgateway_operator_reconcile_errors_total', { pod: 'op-0', reason: 'conflict' }, '0 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'),
      series('badgateway_operator_reconciles_total', { pod: 'op-0', result: 'success' }, '0+1x30'),
      series('badgateway_operator_webhook_requests_total', { pod: 'op-0', result: 'error' }, '0x30'),
      series('badgateway_operator_webhook_certificate_expiry_timestamp_seconds', { pod: 'op-0' }, `${300 * 86_400}x30`),
      series('badgateway_operator_policies', { condition: 'Ready', status: 'True' }, '3x30'),
    ],
    alert_rule_test: ['BadGatewayCircuitOpen', 'BadGatewayHighErrorRatio', 'BadGatewayConfigReloadFailed', 'BadGatewayOperatorNoLeader', 'BadGatewayReconcileFailing', 'BadGatewayWebhookErrors', 'BadGatewayWebhookCertificateExpiring', 'BadGatewayPolicyNotReady']
      .map((alertname) => ({ eval_time: '25m', alertname, exp_alerts: [] })),
  },
];

function writeRules(extraArgs: string[] = []): string {
  const rule = renderChart(['--set', 'metrics.prometheusRule.enabled=true', ...extraArgs]).find((object) => object.kind === 'PrometheusRule') as any;
  const dir = mkdtempSync(join(tmpdir(), 'bgw-rules-'));
  writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: rule.spec.groups }));
  return dir;
}

describe('alert rules (promtool)', () => {
  const run = missing === undefined ? it : it.skip;

  run('the rendered rules pass promtool check rules', () => {
    const dir = writeRules();
    const result = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yaml')], { encoding: 'utf8' });
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS: 8 rules found') });
  });

  run('each alert fires on its fault and not on a healthy fleet (promtool test rules)', () => {
    const dir = writeRules();
    writeFileSync(join(dir, 'tests.yaml'), stringify({ rule_files: ['rules.yaml'], evaluation_interval: '1m', tests: TESTS }));
    const result = spawnSync('promtool', ['test', 'rules', join(dir, 'tests.yaml')], { encoding: 'utf8' });
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  run('every dashboard query is valid PromQL (checked by promtool as recording rules, Grafana variables filled in)', () => {
    const configMap = renderChart(['--set', 'metrics.dashboard.enabled=true']).find((object) => object.kind === 'ConfigMap') as any;
    const panels = (function flatten(list: any[]): any[] {
      return list.flatMap((panel) => [panel, ...flatten(panel.panels ?? [])]);
    })(JSON.parse(configMap.data['badgateway.json']).panels);
    const expressions: string[] = panels.flatMap((panel) => (panel.targets ?? []).map((target: any) => target.expr as string));
    const grafana = (expression: string) => expression
      .replaceAll('$__rate_interval', '1m').replaceAll('$__range', '1h').replaceAll('$__interval', '30s')
      .replace(/\$(namespace|deployment|policy)\b/g, '.*');
    const dir = mkdtempSync(join(tmpdir(), 'bgw-dashboard-'));
    const rules = expressions.map((expression, index) => ({ record: `dashboard:query_${index}`, expr: grafana(expression) }));
    writeFileSync(join(dir, 'queries.yaml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
    const result = spawnSync('promtool', ['check', 'rules', join(dir, 'queries.yaml')], { encoding: 'utf8' });
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${expressions.length} rules found`) });
  });

  run('the thresholds follow the values', () => {
    const dir = writeRules(['--set', 'metrics.prometheusRule.circuitOpenFor=2m']);
    const tests = [{ ...TESTS[0], alert_rule_test: [{ eval_time: '3m', alertname: 'BadGatewayCircuitOpen', exp_alerts: [{ exp_labels: { ...WEB, pod: 'web-a', severity: 'warning' }, exp_annotations: { summary: 'Circuit of shop/web-a has not closed for 2m', description: 'The app behind the sidecar of pod web-a (Deployment web, policy web) keeps failing; clients get fast 502/503s. Check the app, then `kubectl describe bgwp -n shop`.' } }, { exp_labels: { ...WEB, pod: 'web-b', severity: 'warning' }, exp_annotations: { summary: 'Circuit of shop/web-b has not closed for 2m', description: 'The app behind the sidecar of pod web-b (Deployment web, policy web) keeps failing; clients get fast 502/503s. Check the app, then `kubectl describe bgwp -n shop`.' } }] }] }];
    writeFileSync(join(dir, 'tests.yaml'), stringify({ rule_files: ['rules.yaml'], evaluation_interval: '1m', tests }));
    const result = spawnSync('promtool', ['test', 'rules', join(dir, 'tests.yaml')], { encoding: 'utf8' });
    expect({ status: result.status, output: result.stdout + result.stderr }).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });
});

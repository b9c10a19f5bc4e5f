/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests and the dashboard are untyped JSON walked by path */
/**
 * The chart's monitoring pieces as `helm template` renders them: the sidecar PodMonitor, the
 * Grafana dashboard ConfigMap (every query names a metric the sidecar or the operator really
 * exports, every panel uses the datasource variable) and the scrape-annotation switch.
 */
import { describe, expect, it } from '@jest/globals';
import { exportedMetricNames, metricNamesIn } from '../support/exported-metrics.js';
import { chartDir, helm, renderChart, type K8sObject } from '../support/helm.js';

const MONITORING = ['--set', 'metrics.podMonitor.enabled=true', '--set', 'metrics.dashboard.enabled=true', '--set', 'metrics.prometheusRule.enabled=true'];

const find = (objects: K8sObject[], kind: string) => objects.find((object) => object.kind === kind) as K8sObject & Record<string, any>;

/** Every panel, rows' nested panels included. */
function allPanels(panels: any[]): any[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

function dashboard(objects: K8sObject[]): any {
  const configMap = find(objects, 'ConfigMap');
  return JSON.parse(configMap.data['badgateway.json']);
}

describe('chart monitoring', () => {
  it('passes helm lint --strict with every monitoring value on, and the schema refuses unknown or bad ones', () => {
    const lint = helm(['lint', '--strict', chartDir, ...MONITORING, '--set', 'metrics.serviceMonitor.enabled=true']);
    expect({ status: lint.status, out: lint.stdout }).toEqual({ status: 0, out: expect.stringContaining('0 chart(s) failed') });
    const unknown = helm(['template', 'bgw', chartDir, '--set', 'metrics.podMonitor.intervall=1m']);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toMatch(/intervall/);
    const ratio = helm(['template', 'bgw', chartDir, '--set', 'metrics.prometheusRule.errorRatio=5']);
    expect(ratio.status).not.toBe(0);
    expect(ratio.stderr).toMatch(/errorRatio/);
  });

  it('renders none of it by default', () => {
    const kinds = renderChart().map((object) => object.kind);
    for (const kind of ['PodMonitor', 'PrometheusRule', 'ConfigMap']) expect(kinds).not.toContain(kind);
  });

  it('the PodMonitor scrapes the sidecars\' admin port in every namespace, labelled by Deployment and policy', () => {
    const podMonitor = find(renderChart(MONITORING), 'PodMonitor');
    expect(podMonitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(podMonitor.spec.namespaceSelector).toEqual({ any: true });
    const [endpoint] = podMonitor.spec.podMetricsEndpoints;
    // The port name the injection gives the sidecar's admin port (operator/inject/sidecar-container.ts).
    expect(endpoint).toMatchObject({ port: 'bgw-admin', path: '/metrics', interval: '30s' });
    expect(endpoint.relabelings).toEqual([
      { sourceLabels: ['__meta_kubernetes_pod_label_badgateway_io_deployment'], targetLabel: 'deployment' },
      { sourceLabels: ['__meta_kubernetes_pod_label_badgateway_io_policy'], targetLabel: 'policy' },
    ]);
    const scoped = find(renderChart([...MONITORING, '--set', 'operator.watchNamespace=shop']), 'PodMonitor');
    expect(scoped.spec.namespaceSelector).toEqual({ matchNames: ['shop'] });
  });

  it('the dashboard ConfigMap carries Grafana\'s sidecar label and a dashboard that parses', () => {
    const objects = renderChart([...MONITORING, '--set', 'metrics.dashboard.namespace=monitoring']);
    const configMap = find(objects, 'ConfigMap');
    expect(configMap.metadata.namespace).toBe('monitoring');
    expect(configMap.metadata.labels).toMatchObject({ grafana_dashboard: '1' });
    const parsed = dashboard(objects);
    expect(parsed.uid).toBe('badgateway-fleet');
    expect(parsed.templating.list.map((variable: any) => variable.name)).toEqual(['datasource', 'namespace', 'deployment', 'policy']);
  });

  it('every dashboard query names a metric the sidecar or operator exports, and every panel uses the datasource variable', async () => {
    const exported = await exportedMetricNames();
    const parsed = dashboard(renderChart(MONITORING));
    const panels = allPanels(parsed.panels);
    const queried = panels.filter((panel) => panel.type !== 'row');
    expect(queried.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const panel of queried) {
      if (panel.datasource?.uid !== '${datasource}') problems.push(`panel "${panel.title}": datasource ${JSON.stringify(panel.datasource)}`);
      if ((panel.targets ?? []).length === 0) problems.push(`panel "${panel.title}": no query`);
      for (const target of panel.targets ?? []) {
        if (target.datasource?.uid !== '${datasource}') problems.push(`panel "${panel.title}" ${target.refId}: datasource ${JSON.stringify(target.datasource)}`);
        const names = metricNamesIn(target.expr);
        if (names.length === 0) problems.push(`panel "${panel.title}" ${target.refId}: no badgateway metric in ${target.expr}`);
        for (const name of names) if (!exported.has(name)) problems.push(`panel "${panel.title}": ${name} is not exported`);
      }
    }
    for (const variable of parsed.templating.list.filter((item: any) => item.type === 'query')) {
      if (variable.datasource?.uid !== '${datasource}') problems.push(`variable ${variable.name}: datasource`);
      for (const name of metricNamesIn(variable.query.query)) if (!exported.has(name)) problems.push(`variable ${variable.name}: ${name} is not exported`);
    }
    expect(problems).toEqual([]);
  });

  it('one row per policy: the sidecar panels sit in a row repeated over $policy', () => {
    const parsed = dashboard(renderChart(MONITORING));
    const repeated = parsed.panels.filter((panel: any) => panel.type === 'row' && panel.repeat === 'policy');
    expect(repeated).toHaveLength(1);
  });

  it('every alert expression names exported metrics', async () => {
    const exported = await exportedMetricNames();
    const rules = find(renderChart(MONITORING), 'PrometheusRule').spec.groups.flatMap((group: any) => group.rules);
    const unknown = rules.flatMap((rule: any) => metricNamesIn(rule.expr).filter((name) => !exported.has(name)).map((name) => `${rule.alert}: ${name}`));
    expect(unknown).toEqual([]);
    expect(rules.map((rule: any) => rule.alert)).toEqual([
      'BadGatewayCircuitOpen', 'BadGatewayHighErrorRatio', 'BadGatewayConfigReloadFailed', 'BadGatewayOperatorNoLeader',
      'BadGatewayReconcileFailing', 'BadGatewayWebhookErrors', 'BadGatewayWebhookCertificateExpiring', 'BadGatewayPolicyNotReady',
    ]);
  });

  it('passes --no-scrape-annotations to the operator only when scrape annotations are turned off', () => {
    const args = (objects: K8sObject[]) => find(objects, 'Deployment').spec.template.spec.containers[0].args as string[];
    expect(args(renderChart())).not.toContain('--no-scrape-annotations');
    expect(args(renderChart(['--set', 'metrics.scrapeAnnotations=false']))).toContain('--no-scrape-annotations');
  });
});

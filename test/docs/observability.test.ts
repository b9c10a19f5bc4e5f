/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests and the dashboard are untyped JSON */
/**
 * docs/observability.md is executed: its helm command renders what it says, its scrape config
 * parses and relabels to the labels the dashboard and alerts use, its alert table and panel list
 * are exactly the chart's; and the krew manifest is the plugin the docs describe.
 */
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { repoRoot } from '../support/cli.js';
import { closedPort } from '../support/faulty-upstream.js';
import { generatedMetricList, METRICS_BEGIN, METRICS_END } from '../support/metric-list.js';
import { renderChart } from '../support/helm.js';
import { kubectlPath } from '../support/tools.js';
import { runInUserShell, userShellPath } from '../support/user-shell.js';

const doc = readFileSync(join(repoRoot, 'docs', 'observability.md'), 'utf8');
const blocks = (language: string) => [...doc.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((match) => match[1] as string);

describe('docs/observability.md', () => {
  const helmCommand = blocks('sh').find((block) => block.startsWith('helm upgrade --install'))!.replace(/\\\n\s*/g, '');
  const setFlags = [...helmCommand.matchAll(/--set (\S+)/g)].flatMap((match) => ['--set', match[1] as string]);
  const rendered = renderChart(setFlags);

  it('its helm command renders the ServiceMonitor, PodMonitor, PrometheusRule and dashboard it lists', () => {
    expect(helmCommand).toMatch(/^helm upgrade --install badgateway charts\/badgateway -n badgateway-system --create-namespace /);
    expect(rendered.map((object) => object.kind)).toEqual(expect.arrayContaining(['ServiceMonitor', 'PodMonitor', 'PrometheusRule', 'ConfigMap']));
  });

  it('its scrape config keeps annotated pods and gives them the labels the PodMonitor gives', () => {
    const [job] = parse(blocks('yaml')[0]!) as any[];
    const targets = job.relabel_configs.map((rule: any) => rule.target_label).filter(Boolean);
    expect(targets).toEqual(['__address__', '__metrics_path__', 'namespace', 'pod', 'deployment', 'policy']);
    const podMonitor = rendered.find((object) => object.kind === 'PodMonitor') as any;
    for (const relabeling of podMonitor.spec.podMetricsEndpoints[0].relabelings) {
      expect(job.relabel_configs).toContainEqual({ source_labels: relabeling.sourceLabels, target_label: relabeling.targetLabel });
    }
    // The address rule puts the annotated port on the pod IP.
    const address = job.relabel_configs.find((rule: any) => rule.target_label === '__address__');
    expect('10.0.0.7:8080;8503'.replace(new RegExp(`^(?:${address.regex})$`), address.replacement.replace(/\$(\d)/g, '$$$1'))).toBe('10.0.0.7:8503');
  });

  it('its alert table lists exactly the chart\'s alerts', () => {
    const documented = [...doc.matchAll(/^\| `(BadGateway\w+)` \|/gm)].map((match) => match[1]);
    const rules = (rendered.find((object) => object.kind === 'PrometheusRule') as any).spec.groups.flatMap((group: any) => group.rules.map((rule: any) => rule.alert));
    expect(documented).toEqual(rules);
  });

  it('its panel list names exactly the dashboard\'s panels', () => {
    const configMap = rendered.find((object) => object.kind === 'ConfigMap') as any;
    const panels = (JSON.parse(configMap.data['badgateway.json']).panels as any[]).filter((panel) => panel.type !== 'row').map((panel) => panel.title as string);
    const section = doc.slice(doc.indexOf('## Dashboard'), doc.indexOf('## Alerts'));
    const listed = [...section.matchAll(/^- \*\*[^*]+\*\*(?: \([^)]*\))?: ([\s\S]*?)\.$/gm)].flatMap((match) => (match[1] as string).replace(/\s*\n\s*/g, ' ').split('; '));
    expect(listed).toEqual(panels.map((title) => title.replace('Upstream latency', 'Upstream latency (p50, p95, p99)')));
  });

  it('its metric list is the one generated from the sidecar\'s and the operator\'s registries', () => {
    const generated = generatedMetricList();
    const start = doc.indexOf(METRICS_BEGIN);
    const end = doc.indexOf(METRICS_END) + METRICS_END.length;
    if (process.env.UPDATE_DOCS === '1') writeFileSync(join(repoRoot, 'docs', 'observability.md'), start < 0 ? doc : doc.slice(0, start) + generated + doc.slice(end));
    expect(start).toBeGreaterThan(0);
    expect(doc.slice(start, end)).toBe(generated);
  });

  it('its kubectl plugin recipe runs the CLI on Node.js 24 from a user\'s shell', async () => {
    const recipe = /<!-- kubectl-plugin:begin -->\n```sh\n([\s\S]*?)```\n<!-- kubectl-plugin:end -->/.exec(doc)?.[1] ?? '';
    const home = mkdtempSync(join(tmpdir(), 'kubectl-plugin-'));
    try {
      // No cluster here: `check` must run and report the API server unreachable, as a plugin on the right Node does.
      const kubeconfig = join(home, 'kubeconfig');
      writeFileSync(kubeconfig, stringify({
        apiVersion: 'v1', kind: 'Config', 'current-context': 'none',
        clusters: [{ name: 'none', cluster: { server: `https://127.0.0.1:${await closedPort()}` } }],
        contexts: [{ name: 'none', context: { cluster: 'none', user: 'none' } }],
        users: [{ name: 'none', user: {} }],
      }));
      const result = await runInUserShell(recipe, { cwd: repoRoot, env: { HOME: home, KUBECONFIG: kubeconfig, PATH: `${dirname(kubectlPath())}:${userShellPath()}` } });
      const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
      expect(result.stdout.split('\n')[0]).toBe(pkg.version);
      expect(result.stdout).toContain('✗ Kubernetes API reachable');
      expect(result.stderr).not.toContain('needs Node.js');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('the krew manifest is the badgateway plugin, at the package version, running the CLI', () => {
    const manifest = parse(readFileSync(join(repoRoot, 'krew', 'badgateway.yaml'), 'utf8'));
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ apiVersion: 'krew.googlecontainertools.github.com/v1alpha2', kind: 'Plugin', metadata: { name: 'badgateway' }, spec: { version: `v${pkg.version}` } });
    expect(manifest.spec.platforms[0].bin).toBe(pkg.bin['kubectl-badgateway']);
    expect(manifest.spec.platforms[0].uri).toContain(`v${pkg.version}`);
  });
});

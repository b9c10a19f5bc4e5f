import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot, runCli } from '../support/cli.js';

const golden = join(repoRoot, 'test', 'cli', 'golden');
const input = readFileSync(join(golden, 'inject-input.yaml'), 'utf8');

function expectGolden(name: string, text: string): void {
  const file = join(golden, name);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  if (!existsSync(file)) throw new Error(`golden file ${file} is missing: run with UPDATE_GOLDEN=1`);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

describe('badgateway inject', () => {
  it('injects Deployments from stdin and passes other documents through untouched', async () => {
    const result = await runCli(['inject'], { input });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('deployment/web injected\n');
    expectGolden('inject-output.yaml', result.stdout);
    expect(result.stdout).toContain('targetPort: http # by name: routes through the sidecar once injected');
    const [, deployment] = parseAllDocuments(result.stdout).map((document) => document.toJS());
    expect(deployment.spec.template.spec.initContainers[0].name).toBe('badgateway');
  });

  it('injects a regular container for an older cluster, from a file', async () => {
    const result = await runCli(['inject', '-f', join(golden, 'inject-input.yaml'), '--kube-version', 'v1.28.4']);
    expect(result.code).toBe(0);
    expectGolden('inject-output-v1.28.yaml', result.stdout);
  });

  it('is idempotent: injecting its own output gives the same output', async () => {
    const once = await runCli(['inject'], { input });
    const twice = await runCli(['inject'], { input: once.stdout });
    expect(twice.stdout).toBe(once.stdout);
  });

  it('honours a BadGatewayPolicy in the same input as the webhook would: its ConfigMap volume and --config', async () => {
    const example = readFileSync(join(repoRoot, 'charts', 'badgateway', 'examples', 'web.yaml'), 'utf8');
    const result = await runCli(['inject'], { input: example });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('deployment/web injected (policy web)\n');
    const [deployment, , policy] = parseAllDocuments(result.stdout).map((document) => document.toJS());
    const pod = deployment.spec.template.spec;
    expect(pod.initContainers[0].args).toEqual(expect.arrayContaining(['--config', '/etc/badgateway/policy.json']));
    expect(pod.volumes).toEqual([{ name: 'badgateway-config', configMap: { name: 'badgateway-web', optional: true } }]);
    expect(policy.kind).toBe('BadGatewayPolicy');

    // A policy for another Deployment leaves this one on the sidecar's defaults.
    const elsewhere = example.replace('targetRef: { kind: Deployment, name: web }', 'targetRef: { kind: Deployment, name: api }');
    const other = await runCli(['inject'], { input: elsewhere });
    expect(other.stderr).toBe('deployment/web injected\n');
    const [unconfigured] = parseAllDocuments(other.stdout).map((document) => document.toJS());
    expect(unconfigured.spec.template.spec.volumes).toBeUndefined();
    expect(unconfigured.spec.template.spec.initContainers[0].args).not.toContain('--config');
  });

  it('reads the appProtocol of the Services in the same input, as the webhook would', async () => {
    const deployment = [
      'apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: orders', '  namespace: shop', 'spec:',
      '  selector: { matchLabels: { app: orders } }', '  template:', '    metadata: { labels: { app: orders } }', '    spec:',
      '      containers:', '        - { name: orders, image: shop/orders:1, ports: [{ name: api, containerPort: 50051 }] }', '',
    ].join('\n');
    // Without a namespace, the Service shares the Deployment's (kubectl apply -n).
    const grpc = 'apiVersion: v1\nkind: Service\nmetadata: { name: orders }\nspec:\n  selector: { app: orders }\n  ports: [{ port: 80, targetPort: api, appProtocol: grpc }]\n';
    const http = 'apiVersion: v1\nkind: Service\nmetadata: { name: orders-web, namespace: shop }\nspec:\n  selector: { app: orders }\n  ports: [{ port: 8080, targetPort: 50051, appProtocol: http }]\n';
    const argsOf = (output: string): string[] => parseAllDocuments(output).map((document) => document.toJS()).find((object) => object.kind === 'Deployment').spec.template.spec.initContainers[0].args;

    const withService = await runCli(['inject'], { input: `${grpc}---\n${deployment}` });
    expect(withService.code).toBe(0);
    expect(withService.stderr).toBe('deployment/orders injected (h2c to the app: Service orders (appProtocol grpc))\n');
    expect(argsOf(withService.stdout)).toEqual(expect.arrayContaining(['--app-protocol', 'h2c']));

    const alone = await runCli(['inject'], { input: deployment });
    expect(alone.stderr).toBe('deployment/orders injected\n');
    expect(argsOf(alone.stdout)).not.toContain('--app-protocol');

    const disagreeing = await runCli(['inject'], { input: `${deployment}---\n${http}---\n${grpc}` });
    expect(disagreeing.stderr).toBe('deployment/orders injected (h2c to the app: Service orders (appProtocol grpc))\n'
      + 'deployment/orders: warning: Service orders (appProtocol grpc) and Service orders-web (appProtocol http) disagree: the oldest, orders, decides (h2c); '
      + 'annotate badgateway.io/app-protocol to choose\n');
  });

  it('an explicit opt-out wins: badgateway.io/inject: "false" is kept, not injected, and cleans an injected manifest', async () => {
    const optedOut = input.replace('  namespace: shop\n', '  namespace: shop\n  annotations:\n    badgateway.io/inject: "false"\n');
    const expected = parseAllDocuments(optedOut).map((document) => document.toJS());
    const kept = await runCli(['inject'], { input: optedOut });
    expect(kept.stderr).toBe('deployment/web skipped: badgateway.io/inject is "false"; not annotated badgateway.io/inject: "true"\n');
    expect(parseAllDocuments(kept.stdout).map((document) => document.toJS())).toEqual(expected);

    const injected = (await runCli(['inject'], { input })).stdout;
    expect(injected).toContain('badgateway.io/inject: "true"');
    const cleaned = await runCli(['inject'], { input: injected.replace('badgateway.io/inject: "true"', 'badgateway.io/inject: "false"') });
    expect(cleaned.stderr).toBe('deployment/web skipped: badgateway.io/inject is "false"; annotation removed: sidecar and its changes removed\n');
    expect(parseAllDocuments(cleaned.stdout).map((document) => document.toJS())).toEqual(expected);
  });

  it('bad input exits 2 with one line', async () => {
    const bad = await runCli(['inject'], { input: 'a: [unclosed' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^badgateway: stdin: invalid YAML: .* at line 1, column 13\n$/);
    const version = await runCli(['inject', '--kube-version', 'latest'], { input });
    expect(version.code).toBe(2);
    expect(version.stderr).toMatch(/^badgateway: --kube-version: "latest" is not a Kubernetes version/);
  });
});

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

  it('bad input exits 2 with one line', async () => {
    const bad = await runCli(['inject'], { input: 'a: [unclosed' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^badgateway: stdin: invalid YAML/);
    const version = await runCli(['inject', '--kube-version', 'latest'], { input });
    expect(version.code).toBe(2);
    expect(version.stderr).toMatch(/^badgateway: --kube-version: "latest" is not a Kubernetes version/);
  });
});

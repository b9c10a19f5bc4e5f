/**
 * docs/install.md's quickstart, executed: every command of its `## Quickstart` section, as written
 * and in order, with the real helm and kubectl against a real control plane of the test's own
 * (kube-apiserver, controllers, scheduler, kwok nodes: the names in the docs are fixed, so no other
 * suite shares it). The test plays only what kwok cannot: once the chart is installed, the operator
 * runs from the built code exactly as the chart's Deployment says (as its ServiceAccount, with a
 * token the apiserver issued), and the test plays kube-proxy for the webhook Service. If the docs
 * change, this runs the new commands; if they stop working, this fails.
 */
import { afterAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, repoRoot } from '../support/cli.js';
import { startToolRunner, type Run, type ToolRunner } from '../support/client-session.js';
import { startOperatorFromChart, type RunningOperator } from '../support/cluster-stand-in.js';
import { privateCluster, type Cluster, type PrivateCluster } from '../support/cluster.js';
import { serviceAccountKubeconfig } from '../support/cluster-objects.js';
import type { K8sObject } from '../support/helm.js';
import { proxyService, type ServiceProxy } from '../support/service-proxy.js';

/** The `sh` blocks of the section, one command per line (comments and blank lines dropped). */
export function quickstartCommands(markdown: string): string[] {
  const section = markdown.split(/^## /m).find((part) => part.startsWith('Quickstart\n')) ?? '';
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((block) => (block[1] ?? '').split('\n'))
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** POSIX-shell words of a simple command: whitespace-separated, single and double quotes. */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let index = 0; index < command.length; index += 1) {
    const character = command[index]!;
    if (character === "'" || character === '"') {
      const end = command.indexOf(character, index + 1);
      if (end < 0) throw new Error(`unterminated quote in: ${command}`);
      word = (word ?? '') + command.slice(index + 1, end);
      index = end;
    } else if (/\s/.test(character)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if ('|&;<>$`\\'.includes(character)) {
      throw new Error(`the quickstart must stay plain commands (no ${character}): ${command}`);
    } else {
      word = (word ?? '') + character;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

const NAMESPACE = 'badgateway-system';
let controlPlane: PrivateCluster | undefined;
let session: ToolRunner | undefined;
let operator: RunningOperator | undefined;
let proxy: ServiceProxy | undefined;

afterAll(async () => {
  operator?.stop();
  await proxy?.close();
  await session?.close();
  await controlPlane?.stop();
}, 60_000);

/** After `helm install`: what kwok cannot do — run the operator's process, and play kube-proxy for its webhook Service. */
async function startOperatorPod(live: Cluster, current: ToolRunner): Promise<RunningOperator> {
  const deployments = JSON.parse(await current.kubectlOk(['-n', NAMESPACE, 'get', 'deployment', '-o', 'json'])).items as K8sObject[];
  const deployment = deployments[0] as K8sObject & { spec: { template: { spec: { serviceAccountName: string } } } };
  const token = await serviceAccountKubeconfig(live, NAMESPACE, deployment.spec.template.spec.serviceAccountName);
  const running = await startOperatorFromChart(deployment, token, 'badgateway-0');
  const webhook = JSON.parse(await current.kubectlOk(['get', 'mutatingwebhookconfiguration', '-o', 'json'])).items[0];
  const { service } = webhook.webhooks[0].clientConfig;
  proxy = await proxyService(live, service.namespace, service.name, running.webhookPort);
  await eventually(() => /webhook listening/.test(running.output()), 30_000, () => `webhook listening (${running.output().slice(-300)})`);
  await eventually(async () => {
    const configuration = JSON.parse(await current.kubectlOk(['get', 'mutatingwebhookconfiguration', '-o', 'json'])).items[0];
    return typeof configuration.webhooks[0].clientConfig.caBundle === 'string';
  }, 30_000, 'the operator patched the webhook caBundle');
  return running;
}

describe('docs/install.md quickstart', () => {
  const commands = quickstartCommands(readFileSync(join(repoRoot, 'docs', 'install.md'), 'utf8'));

  it('is made of helm and kubectl commands the test can run', () => {
    expect(commands.length).toBeGreaterThanOrEqual(5);
    expect(commands[0]).toMatch(/^helm install /);
    for (const command of commands) expect(shellWords(command)[0]).toMatch(/^(helm|kubectl)$/);
    expect(shellWords("kubectl get x -o jsonpath='{.a[*].b}'")).toEqual(['kubectl', 'get', 'x', '-o', 'jsonpath={.a[*].b}']);
  });

  it('covers the chart README\'s quickstart: its commands are among those run here, in the same order', () => {
    const readme = readFileSync(join(repoRoot, 'charts', 'badgateway', 'README.md'), 'utf8');
    const block = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const chartCommands = block.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
    expect(chartCommands.length).toBeGreaterThan(0);
    expect(commands.filter((command) => chartCommands.includes(command))).toEqual(chartCommands);
  });

  it('runs as written against a real control plane with the operator running', async () => {
    controlPlane = privateCluster();
    const live = await controlPlane.ready;
    session = startToolRunner(live.kubeconfigPath);
    const current = session;
    const outputs: Array<{ command: string; run: Run }> = [];
    for (const command of commands) {
      const [binary, ...args] = shellWords(command);
      const run = binary === 'helm' ? await current.helm(args) : await current.kubectl(args);
      outputs.push({ command, run });
      expect({ command, code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ command, code: 0, stderr: '' });
      if (binary === 'helm' && args[0] === 'install') operator = await startOperatorPod(live, current);
    }

    // What the docs say the user sees.
    const table = outputs.find((output) => /^kubectl get badgatewaypolicies -n shop$/.test(output.command))?.run.stdout ?? '';
    expect(table.split('\n')[0]).toMatch(/^NAME\s+TARGETS\s+CONFIGURED\s+READY\s+REASON\s+AGE$/);
    expect(table.split('\n')[1]).toMatch(/^web\s+web\s+1\/1\s+True\s+Rendered\s+\d+s$/);
    expect(outputs.at(-1)?.run.stdout).toBe('badgateway');
    // Least privilege, but enough: nothing the operator did was refused by the chart's RBAC.
    expect(operator?.output()).not.toMatch(/forbidden|\b403\b/i);
  }, 300_000);
});

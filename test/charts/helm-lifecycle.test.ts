/* eslint-disable @typescript-eslint/no-explicit-any -- kubectl -o json comes back as untyped JSON */
/**
 * The real `helm install|upgrade|rollback|uninstall` (Helm 4) and kubectl v1.35 on a real control
 * plane of this suite's own (the upgrade changes the CRD every other suite reads), as a user runs
 * them (docs/install.md, docs/e2e.md). `--wait` waits for real: the Deployment controller, the
 * scheduler and kwok's kubelet make the operator's pod Ready. The operator itself runs from the
 * built code exactly as the chart's Deployment says, as its ServiceAccount (a token the apiserver
 * issued), and the test plays kube-proxy for the webhook Service, whose ClusterIP is a loopback
 * address on this cluster: the apiserver calls the `service:` reference and verifies the
 * certificate the operator bootstrapped. The client-side apply variant runs on the same cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chartDir } from '../support/helm.js';
import { eventually } from '../support/cli.js';
import { runReleasedOperator, type ReleasedOperator } from '../support/chart-release.js';
import { startToolRunner, type ToolRunner } from '../support/client-session.js';
import { CLUSTER_START_TIMEOUT_MS, privateCluster, type Cluster, type PrivateCluster } from '../support/cluster.js';

const NAMESPACE = 'badgateway-system';
let controlPlane: PrivateCluster | undefined;
let cluster: Cluster;
let tools: ToolRunner;
let release: ReleasedOperator | undefined;
let workDir: string | undefined;

beforeAll(async () => {
  controlPlane = privateCluster();
  cluster = await controlPlane.ready;
  tools = startToolRunner(cluster.kubeconfigPath);
}, CLUSTER_START_TIMEOUT_MS);

afterAll(async () => {
  await release?.close();
  await tools?.close();
  await controlPlane?.stop();
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
}, 60_000);

const json = async (...args: string[]): Promise<any> => JSON.parse(await tools.kubectlOk([...args, '-o', 'json']));

describe('helm lifecycle', () => {
  it('installs with --wait on a real control plane, runs the example, upgrades (values and CRD), rolls back and uninstalls', async () => {
    const current = tools;

    // --- install: helm waits until the operator Deployment is available; kwok runs its pod.
    expect(await current.helmOk(['install', 'badgateway', chartDir, '-n', NAMESPACE, '--create-namespace', '--wait', '--timeout', '120s'])).toMatch(/STATUS: deployed/);
    const operatorDeployment = (await json('-n', NAMESPACE, 'get', 'deployment')).items[0];
    const replicas = operatorDeployment.spec.replicas as number;
    expect(operatorDeployment.status).toMatchObject({ readyReplicas: replicas, availableReplicas: replicas });
    const pods = (await json('-n', NAMESPACE, 'get', 'pods')).items;
    expect(pods.map((pod: any) => pod.spec.nodeName)).toEqual(Array(replicas).fill(expect.stringMatching(/^kwok-node-/)));
    expect((await json('-n', NAMESPACE, 'get', 'secret', '-l', 'owner=helm')).items.map((item: any) => item.metadata.name)).toEqual(['sh.helm.release.v1.badgateway.v1']);
    release = await runReleasedOperator(cluster, current, NAMESPACE, 'badgateway-0');

    // --- the example, as the chart's NOTES and the example file say.
    await current.kubectlOk(['create', 'namespace', 'shop']);
    await current.kubectlOk(['apply', '-n', 'shop', '-f', join(chartDir, 'examples', 'web.yaml')]);
    await eventually(async () => ((await json('-n', 'shop', 'get', 'deployment', 'web')).spec.template.spec.initContainers ?? []).some((container: any) => container.name === 'badgateway'), 30_000, 'the sidecar injected into shop/web');
    await current.kubectlOk(['-n', 'shop', 'annotate', 'deployment', 'web', 'team=shop']);
    await eventually(async () => {
      const policy = await json('-n', 'shop', 'get', 'bgwp', 'web');
      return (policy.status?.conditions ?? []).some((condition: any) => condition.type === 'Ready' && condition.status === 'True');
    }, 60_000, 'policy shop/web Ready');

    // --- upgrade with changed values and a changed CRD (a new printer column): Helm leaves crds/ alone,
    // so the documented path applies the CRD first (server-side, taking the fields over from helm).
    workDir = mkdtempSync(join(tmpdir(), 'helm-upgrade-'));
    const nextChart = join(workDir, 'badgateway');
    cpSync(chartDir, nextChart, { recursive: true });
    const crdFile = join(nextChart, 'crds', 'badgatewaypolicies.badgateway.io.yaml');
    writeFileSync(crdFile, readFileSync(crdFile, 'utf8').replace(/additionalPrinterColumns:\n/, 'additionalPrinterColumns:\n        - { name: Upgraded, type: string, jsonPath: .metadata.name, priority: 1 }\n'));
    const columns = async () => (await json('get', 'crd', 'badgatewaypolicies.badgateway.io')).spec.versions[0].additionalPrinterColumns.map((column: any) => column.name);
    expect(await columns()).not.toContain('Upgraded');
    await current.helmOk(['upgrade', 'badgateway', nextChart, '-n', NAMESPACE, '--set', 'operator.logLevel=debug', '--wait', '--timeout', '60s']);
    expect(await columns()).not.toContain('Upgraded'); // what Helm does with crds/ on upgrade: nothing
    const args = async () => (await json('-n', NAMESPACE, 'get', 'deployment')).items[0].spec.template.spec.containers[0].args as string[];
    expect(await args()).toContain('--log-level=debug');
    const refused = await current.kubectl(['apply', '--server-side', '-f', join(nextChart, 'crds')]);
    expect(refused.stderr).toMatch(/conflict with "helm"/);
    await current.kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', join(nextChart, 'crds')]);
    expect(await columns()).toContain('Upgraded');
    expect(await current.kubectlOk(['-n', 'shop', 'get', 'bgwp', '-o', 'wide'])).toMatch(/UPGRADED/);
    // The operator's caBundle survives helm's apply of the webhook configuration (helm does not own it).
    expect((await json('get', 'mutatingwebhookconfiguration')).items[0].webhooks[0].clientConfig.caBundle).toEqual(release.caBundle);

    // --- rollback to revision 1: the values come back, the history grows.
    await current.helmOk(['rollback', 'badgateway', '1', '-n', NAMESPACE, '--wait', '--timeout', '60s']);
    expect(await args()).toContain('--log-level=info');
    expect(await current.helmOk(['history', 'badgateway', '-n', NAMESPACE])).toMatch(/3\s+.*deployed.*Rollback to 1/);

    // --- uninstall: the release's objects go; what is kept on purpose stays.
    await current.helmOk(['uninstall', 'badgateway', '-n', NAMESPACE, '--wait']);
    const left = (await json('-n', NAMESPACE, 'get', 'deployment,serviceaccount,service,role,rolebinding,poddisruptionbudget')).items;
    // Every namespace has the ServiceAccount `default`, made by the ServiceAccount controller, not Helm.
    expect(left.map((item: any) => `${item.kind}/${item.metadata.name}`)).toEqual(['ServiceAccount/default']);
    // Helm's release records are gone; the webhook certificate the operator made itself is not Helm's to delete.
    expect((await json('-n', NAMESPACE, 'get', 'secret')).items.map((secret: any) => secret.metadata.name)).toEqual(['badgateway-webhook-tls']);
    expect((await json('get', 'mutatingwebhookconfiguration')).items).toEqual([]);
    expect((await json('get', 'crd')).items.map((crd: any) => crd.metadata.name)).toEqual(['badgatewaypolicies.badgateway.io']);
    expect((await json('-n', 'shop', 'get', 'bgwp')).items.map((policy: any) => policy.metadata.name)).toEqual(['web']);
    expect((await json('-n', 'shop', 'get', 'deployment', 'web')).spec.template.spec.initContainers.map((container: any) => container.name)).toEqual(['badgateway']);
    expect((await json('get', 'namespace', NAMESPACE)).metadata.name).toBe(NAMESPACE);
  }, 300_000);

  it('installs, upgrades and uninstalls with client-side apply too (--server-side=false)', async () => {
    // A release of its own beside what the first test left (the CRD is there: Helm skips crds/).
    const plain = ['plain', chartDir, '-n', 'plain-system', '--server-side=false', '--wait', '--timeout', '120s'];
    await tools.helmOk(['install', ...plain, '--create-namespace']);
    await tools.helmOk(['upgrade', ...plain, '--set', 'operator.logLevel=debug']);
    const deployment = await json('-n', 'plain-system', 'get', 'deployment', 'plain-badgateway', '--show-managed-fields');
    expect(deployment.spec.template.spec.containers[0].args).toContain('--log-level=debug');
    expect(deployment.status).toMatchObject({ updatedReplicas: deployment.spec.replicas, availableReplicas: deployment.spec.replicas });
    // Client-side: Helm's writes are Updates (three-way merge patches), never server-side Applies.
    const writes = deployment.metadata.managedFields.map((entry: any) => `${entry.manager}/${entry.operation}`);
    expect(writes).toContain('helm/Update');
    expect(writes).not.toContain('helm/Apply');
    expect(await tools.helmOk(['history', 'plain', '-n', 'plain-system'])).toMatch(/2\s+.*deployed/);
    await tools.helmOk(['uninstall', 'plain', '-n', 'plain-system', '--wait']);
    expect((await json('-n', 'plain-system', 'get', 'deployment')).items).toEqual([]);
  }, 300_000);
});

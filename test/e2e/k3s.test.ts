/**
 * The whole story against a real cluster: build the image, load it into k3s, `helm install` the
 * chart, deploy the example, break the app and expect the fast branded 502; then the release's
 * upgrade (CRD first), rollback and uninstall.
 *
 * Needs a Docker engine (testcontainers). Without one the suite is SKIPPED with one printed line
 * saying why: it never reports a pass it did not run. See docs/e2e.md.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { K3sContainer, type StartedK3sContainer } from '@testcontainers/k3s';
import { GenericContainer, getContainerRuntimeClient } from 'testcontainers';
import { repoRoot } from '../support/cli.js';
import { helmPath, kubectlPath } from '../support/tools.js';

const run = promisify(execFile);
const K3S_IMAGE = process.env.BADGATEWAY_K3S_IMAGE ?? 'rancher/k3s:v1.33.5-k3s1';
const IMAGE = 'badgateway:e2e';
const DOCKER_PROBE_MS = 5_000;
const CLUSTER_TIMEOUT_MS = 15 * 60_000;

/** Whether a container runtime answers, decided quickly. */
async function probeDocker(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const timeout = new Promise<never>((_, reject) => {
    setTimeout(() => reject(new Error(`no answer within ${DOCKER_PROBE_MS} ms`)), DOCKER_PROBE_MS).unref();
  });
  try {
    await Promise.race([getContainerRuntimeClient(), timeout]);
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: (error as Error).message.split('\n')[0] ?? 'unknown error' };
  }
}

const docker = await probeDocker();
if (!docker.ok) process.stderr.write(`k3s e2e SKIPPED: no Docker engine reachable (${docker.reason}); see docs/e2e.md\n`);
const describeWithDocker = docker.ok ? describe : describe.skip;

describeWithDocker('badgateway on k3s', () => {
  let cluster: StartedK3sContainer;
  let workDir: string;
  let kubeconfig: string;
  const forwards: ChildProcess[] = [];

  const kubectl = async (...args: string[]) => (await run(kubectlPath(), ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 16 * 1024 * 1024 })).stdout;
  const helm = async (...args: string[]) => (await run(helmPath(), ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 16 * 1024 * 1024 })).stdout;

  /** Loads the locally built image into k3s's containerd (no registry needed). */
  async function loadImage(): Promise<void> {
    const client = await getContainerRuntimeClient();
    const dockerode = (client.container as unknown as { dockerode: { getImage(name: string): { get(): Promise<NodeJS.ReadableStream> } } }).dockerode;
    const chunks: Buffer[] = [];
    for await (const chunk of await dockerode.getImage(IMAGE).get()) chunks.push(Buffer.from(chunk as Buffer));
    await cluster.copyContentToContainer([{ content: Buffer.concat(chunks), target: '/tmp/badgateway.tar' }]);
    const imported = await cluster.exec(['ctr', '-n', 'k8s.io', 'images', 'import', '/tmp/badgateway.tar']);
    if (imported.exitCode !== 0) throw new Error(`ctr import failed: ${imported.output}`);
  }

  /** `kubectl port-forward` on a free local port; resolves with that port. */
  function portForward(target: string, remotePort: number): Promise<number> {
    const child = spawn(kubectlPath(), ['--kubeconfig', kubeconfig, '-n', 'shop', 'port-forward', target, `0:${remotePort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    forwards.push(child);
    return new Promise((resolve, reject) => {
      child.stdout.on('data', (data: Buffer) => {
        const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(String(data));
        if (match?.[1] !== undefined) resolve(Number(match[1]));
      });
      child.on('exit', (code) => reject(new Error(`port-forward exited with ${String(code)}`)));
    });
  }

  async function firstPod(): Promise<string> {
    return (await kubectl('-n', 'shop', 'get', 'pods', '-l', 'app=web', '--field-selector=status.phase=Running', '-o', 'jsonpath={.items[0].metadata.name}')).trim();
  }

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'badgateway-k3s-'));
    kubeconfig = join(workDir, 'kubeconfig');
    await GenericContainer.fromDockerfile(repoRoot).build(IMAGE, { deleteOnExit: false });
    cluster = await new K3sContainer(K3S_IMAGE).start();
    writeFileSync(kubeconfig, cluster.getKubeConfig(), { mode: 0o600 });
    await loadImage();
    await helm('install', 'badgateway', join(repoRoot, 'charts', 'badgateway'), '-n', 'badgateway-system', '--create-namespace',
      '--set', 'image.repository=badgateway', '--set', 'image.tag=e2e', '--set', 'image.pullPolicy=Never', '--wait', '--timeout', '5m');
    await kubectl('create', 'namespace', 'shop');
    await kubectl('apply', '-n', 'shop', '-f', join(repoRoot, 'charts', 'badgateway', 'examples', 'web.yaml'));
    await kubectl('-n', 'shop', 'rollout', 'status', 'deployment/web', '--timeout=5m');
  }, CLUSTER_TIMEOUT_MS);

  afterAll(async () => {
    for (const child of forwards) child.kill();
    await cluster?.stop();
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  }, 120_000);

  it('injects the sidecar into the annotated example Deployment', async () => {
    // Native sidecar (initContainers, restartPolicy: Always) on Kubernetes >= 1.29, a regular container before.
    const containers = await kubectl('-n', 'shop', 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.template.spec.initContainers[*].name} {.spec.template.spec.containers[*].name}');
    expect(containers.split(' ')).toContain('badgateway');
    const status = JSON.parse(await kubectl('-n', 'shop', 'get', 'badgatewaypolicy', 'web', '-o', 'json')) as { metadata: { generation: number }; status?: { observedGeneration?: number } };
    expect(status.status?.observedGeneration).toBe(status.metadata.generation);
    await kubectl('-n', 'shop', 'wait', 'badgatewaypolicy/web', '--for=condition=Ready', '--timeout=2m');
  }, 180_000);

  it('serves the app through the sidecar, then a fast branded 502 once the app stops listening', async () => {
    const port = await portForward('service/web', 80);
    const healthy = await fetch(`http://127.0.0.1:${port}/`);
    expect(healthy.status).toBe(200);
    await healthy.arrayBuffer();

    // The app container keeps running but listens on nothing: the sidecar gets connection refused.
    await kubectl('-n', 'shop', 'patch', 'deployment', 'web', '--type=strategic', '-p',
      JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'web', command: ['sleep', '100000'], readinessProbe: null }] } } } }));
    await kubectl('-n', 'shop', 'rollout', 'status', 'deployment/web', '--timeout=5m');
    const broken = await portForward(`pod/${await firstPod()}`, 8502);
    const started = performance.now();
    const response = await fetch(`http://127.0.0.1:${broken}/`, { headers: { accept: 'text/html' } });
    const elapsedMs = performance.now() - started;
    expect(response.status).toBe(502);
    expect(response.headers.get('x-badgateway-reason')).toBe('connect-failed');
    expect(response.headers.get('proxy-status')).toMatch(/^badgateway; error=/);
    expect(await response.text()).toContain('We\'ll be right back');
    expect(elapsedMs).toBeLessThan(5_000); // connect timeout is 1s: far from a hanging request
  }, 10 * 60_000);

  // The lifecycle of charts/badgateway/README.md, as test/charts/helm-lifecycle.test.ts runs it on the test API server.
  it('upgrades (CRD first, then values), rolls back and uninstalls, leaving what the chart README says', async () => {
    const chart = join(repoRoot, 'charts', 'badgateway');
    const args = async () => (await kubectl('-n', 'badgateway-system', 'get', 'deployment', 'badgateway', '-o', 'jsonpath={.spec.template.spec.containers[0].args}'));
    await kubectl('apply', '--server-side', '--force-conflicts', '-f', join(chart, 'crds'));
    await helm('upgrade', 'badgateway', chart, '-n', 'badgateway-system', '--reuse-values', '--set', 'operator.logLevel=debug', '--wait', '--timeout', '5m');
    expect(await args()).toContain('--log-level=debug');
    await helm('rollback', 'badgateway', '1', '-n', 'badgateway-system', '--wait', '--timeout', '5m');
    expect(await args()).toContain('--log-level=info');
    await helm('uninstall', 'badgateway', '-n', 'badgateway-system', '--wait', '--timeout', '5m');
    expect(await kubectl('get', 'mutatingwebhookconfigurations', '-o', 'jsonpath={.items[*].metadata.name}')).not.toContain('badgateway');
    expect(await kubectl('get', 'crd', 'badgatewaypolicies.badgateway.io', '-o', 'jsonpath={.metadata.name}')).toBe('badgatewaypolicies.badgateway.io');
    expect(await kubectl('-n', 'shop', 'get', 'badgatewaypolicy', 'web', '-o', 'jsonpath={.metadata.name}')).toBe('web');
  }, 15 * 60_000);
});

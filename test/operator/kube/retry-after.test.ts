/**
 * 429 with Retry-After, as kube-apiserver answers a list while the resource's watch cache
 * (re)initializes (right after a CRD update): the retrying clients send the call again after the
 * seconds asked for, as client-go does, and `badgateway check` uses them, so that moment is not a
 * failed check. The real client against the test API server behind a proxy that answers the first
 * requests of a path itself.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_GROUP, API_VERSION, POLICY_PLURAL } from '../../../api/names.js';
import type { CheckReport } from '../../../operator/check/run-checks.js';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../../operator/kube/clients.js';
import { retryAfterTooManyRequests } from '../../../operator/kube/retry-after.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver/index.js';
import { runCli } from '../../support/cli.js';
import { installPolicyCrd } from '../../support/policy-crd.js';
import { startRecordingProxy, type ProxyAnswer, type RecordingProxy } from '../controller/recording-proxy.js';

const POLICIES_PATH = `/apis/${API_GROUP}/${API_VERSION}/${POLICY_PLURAL}`;
const DEPLOYMENTS_PATH = '/apis/apps/v1/deployments';

let server: TestApiServer;
const directory = mkdtempSync(join(tmpdir(), 'retry-after-'));
const proxies: RecordingProxy[] = [];

beforeAll(async () => {
  server = await startTestApiServer();
  await installPolicyCrd(server);
});
afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()));
  await server?.close();
  rmSync(directory, { recursive: true, force: true });
});

function initializing(retryAfter: string | undefined): ProxyAnswer {
  const status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'storage is (re)initializing', reason: 'TooManyRequests', code: 429 };
  return { status: 429, headers: { 'content-type': 'application/json', ...(retryAfter === undefined ? {} : { 'retry-after': retryAfter }) }, body: JSON.stringify(status) };
}

/** A proxy that refuses the first `refusals` lists of `path` (without a label selector) with 429; its kubeconfig. */
async function refusing(path: string, refusals: number, retryAfter: string | undefined): Promise<{ proxy: RecordingProxy; kubeconfigPath: string; calls: () => number }> {
  let calls = 0;
  const proxy = await startRecordingProxy(server.url, (request) => {
    if (request.path !== path || request.watch || request.query.has('labelSelector')) return undefined;
    calls += 1;
    return calls <= refusals ? initializing(retryAfter) : undefined;
  });
  proxies.push(proxy);
  const kubeconfigPath = join(directory, `kubeconfig-${proxies.length}`);
  writeFileSync(kubeconfigPath, server.kubeConfigYaml.replace(server.url, proxy.url), { mode: 0o600 });
  return { proxy, kubeconfigPath, calls: () => calls };
}

const listPolicies = (clients: KubeClients): Promise<unknown> =>
  clients.custom.listCustomObjectForAllNamespaces({ group: API_GROUP, version: API_VERSION, resourcePlural: POLICY_PLURAL });

describe('calls refused with 429 and Retry-After', () => {
  it('are sent again after the seconds the API server asked for, and answered', async () => {
    const front = await refusing(POLICIES_PATH, 2, '1');
    const clients = retryAfterTooManyRequests(createKubeClients(loadKubeConfig(front.kubeconfigPath)));
    const started = performance.now();
    await expect(listPolicies(clients)).resolves.toMatchObject({ items: [] });
    expect(front.calls()).toBe(3);
    expect(performance.now() - started).toBeGreaterThanOrEqual(2 * 1000 - 50); // waited as asked, never less
  });

  it('are not sent again without Retry-After, nor more than 10 times', async () => {
    const bare = await refusing(POLICIES_PATH, 1, undefined);
    await expect(listPolicies(retryAfterTooManyRequests(createKubeClients(loadKubeConfig(bare.kubeconfigPath))))).rejects.toMatchObject({ code: 429 });
    expect(bare.calls()).toBe(1);
    const endless = await refusing(POLICIES_PATH, Infinity, '0');
    await expect(listPolicies(retryAfterTooManyRequests(createKubeClients(loadKubeConfig(endless.kubeconfigPath))))).rejects.toMatchObject({ code: 429 });
    expect(endless.calls()).toBe(11);
  });

  it('are no failed check in `badgateway check`', async () => {
    // The first list of all Deployments without a selector is "annotated for injection"'s, which runs whatever else the check finds.
    const front = await refusing(DEPLOYMENTS_PATH, 1, '1');
    const run = await runCli(['check', '-o', 'json'], { env: { KUBECONFIG: front.kubeconfigPath }, timeoutMs: 90_000 });
    const report = JSON.parse(run.stdout) as CheckReport;
    expect(front.calls()).toBeGreaterThanOrEqual(2);
    expect(report.checks.find((check) => check.name === 'Deployments annotated for injection are injected')).toMatchObject({ status: 'pass', message: '0 annotated, all injected' });
  }, 120_000);
});

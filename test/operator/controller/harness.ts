/* eslint-disable @typescript-eslint/no-explicit-any -- custom objects and events come back as untyped JSON */
/** Shared set-up of the controller tests: a test API server, the real client, a controller. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Deployment } from '@kubernetes/client-node';
import { silentLogger } from '../../../api/logger.js';
import { startController, type ControllerOptions, type PolicyController } from '../../../operator/controller/index.js';
import { injectDeployment } from '../../../operator/inject/inject.js';
import { CURRENT_KUBE_VERSION } from '../../../operator/inject/kube-version.js';
import { DEFAULT_INJECTION_SETTINGS } from '../../../operator/inject/settings.js';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../../operator/kube/clients.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver/index.js';
import { installPolicyCrd } from '../../support/policy-crd.js';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.js';

export const policyGroup = { group: 'badgateway.io', version: 'v1alpha1', plural: 'badgatewaypolicies' };

export interface Harness {
  server: TestApiServer;
  clients: KubeClients;
  /** Keys of finished reconciles, in order. */
  reconciles: string[];
  /** Failed reconciles, as `key: message`. */
  failures: string[];
  start(options?: Partial<ControllerOptions>): Promise<PolicyController>;
  /** Clients whose requests go through `url` (e.g. a recording proxy) instead of the server. */
  clientsVia(url: string): KubeClients;
  /** A proxy in front of the server that records every request; closed with the harness. */
  recordingProxy(): Promise<RecordingProxy>;
  close(): Promise<void>;
}

/** A controller with the tests' short delays that records each reconcile's key, or its failure. */
export function startRecordingController(clients: KubeClients, reconciles: string[], failures: string[], options: Partial<ControllerOptions>): Promise<PolicyController> {
  return startController({
    clients, logger: silentLogger(), informerRestartDelayMs: 100, retryBaseDelayMs: 50, retryMaxDelayMs: 500,
    resyncPeriodMs: 60 * 60_000,
    onReconcile: (outcome) => {
      if (outcome.error === undefined) reconciles.push(outcome.key);
      else failures.push(`${outcome.key}: ${(outcome.error as Error).message.split('\n')[0] ?? ''}`);
    },
    ...options,
  });
}

export async function startHarness(): Promise<Harness> {
  const server = await startTestApiServer();
  const clients = createKubeClients(loadKubeConfig(server.kubeconfigPath));
  await installPolicyCrd(server);
  const reconciles: string[] = [];
  const failures: string[] = [];
  const controllers: PolicyController[] = [];
  const proxies: RecordingProxy[] = [];
  const directory = mkdtempSync(join(tmpdir(), 'controller-test-'));
  return {
    server,
    clients,
    reconciles,
    failures,
    start: async (options = {}) => {
      const controller = await startRecordingController(clients, reconciles, failures, options);
      controllers.push(controller);
      return controller;
    },
    clientsVia: (url) => {
      const path = join(directory, `kubeconfig-${Math.random().toString(16).slice(2)}`);
      writeFileSync(path, server.kubeConfigYaml.replace(server.url, url), { mode: 0o600 });
      return createKubeClients(loadKubeConfig(path));
    },
    recordingProxy: async () => {
      const proxy = await startRecordingProxy(server.url);
      proxies.push(proxy);
      return proxy;
    },
    close: async () => {
      await Promise.all(controllers.splice(0).map((controller) => controller.close()));
      await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export const policy = (name: string, spec: Record<string, unknown>, namespace = 'default') =>
  ({ apiVersion: 'badgateway.io/v1alpha1', kind: 'BadGatewayPolicy', metadata: { name, namespace }, spec });

export interface DeploymentOptions {
  /** Inject the sidecar as the webhook would: with `policy`'s configuration, or `'defaults'` (no policy mounted). */
  injected?: boolean | 'defaults';
  /** The policy whose ConfigMap an injected sidecar mounts (default: the Deployment's name). */
  policy?: string;
  /** Annotated badgateway.io/inject=true (default: when injected). */
  annotated?: boolean;
  namespace?: string;
}

export const deployment = (name: string, labels: Record<string, string>, options: DeploymentOptions = {}): V1Deployment => {
  const injected = options.injected ?? false;
  const annotated = options.annotated ?? injected !== false;
  const plain: V1Deployment = {
    metadata: { name, namespace: options.namespace ?? 'default', ...(annotated ? { annotations: { 'badgateway.io/inject': 'true' } } : {}) },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'app:1', ports: [{ containerPort: 8080, name: 'http' }] }] } },
    },
  };
  if (injected === false) return plain;
  const policyName = injected === 'defaults' ? undefined : options.policy ?? name;
  const result = injectDeployment(
    { ...plain, metadata: { ...plain.metadata, annotations: { ...plain.metadata?.annotations, 'badgateway.io/inject': 'true' } } },
    { settings: DEFAULT_INJECTION_SETTINGS, kubeVersion: CURRENT_KUBE_VERSION, ...(policyName === undefined ? {} : { policyName }) },
  );
  if (annotated) return result.deployment;
  const annotations = { ...result.deployment.metadata?.annotations };
  delete annotations['badgateway.io/inject'];
  return { ...result.deployment, metadata: { ...result.deployment.metadata, annotations } };
};

export const getPolicy = (clients: KubeClients, name: string, namespace = 'default'): Promise<any> =>
  clients.custom.getNamespacedCustomObject({ ...policyGroup, namespace, name });

export const condition = (object: any, type: string): any => object?.status?.conditions?.find((item: any) => item.type === type);

/** events.k8s.io/v1 Events regarding the named object. */
export async function eventsAbout(clients: KubeClients, name: string, namespace = 'default'): Promise<any[]> {
  const list = await clients.events.listNamespacedEvent({ namespace });
  return list.items.filter((event) => event.regarding?.name === name);
}

/**
 * The policy controller: informers feed a level-triggered work queue of policy keys; each key is
 * reconciled by reconcilePolicy. Policies are also re-queued on every resync period.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../../api/logger.js';
import { POLICY_KIND, configMapNameFor } from '../../api/names.js';
import type { KubeClients } from '../kube/clients.js';
import { createClaimsIndex } from './claims-index.js';
import { trackDeploymentChanges } from './deployment-changes.js';
import { createEventRecorder, type EventRecorder } from './events.js';
import { createInformers, keepRunning } from './informers.js';
import { createPageWatcher } from './page-watch.js';
import type { PolicyObject, ReconcileContext } from './context.js';
import { reconcilePolicy } from './reconcile.js';
import { referencedConfigMapNames } from './render.js';
import { createWorkQueue, type WorkQueue } from './work-queue.js';

export interface ControllerOptions {
  clients: KubeClients;
  logger: Logger;
  /** Watch only this namespace; all namespaces when undefined. */
  namespace?: string;
  maxConcurrentReconciles?: number;
  resyncPeriodMs?: number;
  informerRestartDelayMs?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  now?: () => Date;
  /** Records Kubernetes Events; default: a recorder reporting as `process.env.HOSTNAME`. */
  events?: EventRecorder;
  /** Reports each reconcile: its duration and whether it failed (for metrics). */
  onReconcile?(outcome: { key: string; durationMs: number; error?: unknown }): void;
}

export interface PolicyController {
  queueDepth(): number;
  /** The policies in the informer cache, with the status last written. */
  policies(): readonly { conditions?: readonly { type: string; status: string }[] }[];
  /** `namespace/name` of the referenced error-page ConfigMaps being watched. */
  watchedPages(): string[];
  /** Resolves when the work queue is empty and nothing is running. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const CLOSE_GRACE_MS = 5_000;

const keyOf = (object: KubernetesObject): string => `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;

export async function startController(options: ControllerOptions): Promise<PolicyController> {
  const { clients, logger } = options;
  const informers = createInformers(clients, options.namespace);
  const restartDelay = options.informerRestartDelayMs ?? 1_000;
  // A referenced page changed: re-render the policies that reference it. (Page events only arrive
  // after a reconcile tracked the page, so enqueueNamespace, defined below, exists by then.)
  const pages = createPageWatcher({
    clients, logger, restartDelayMs: restartDelay,
    onChange: (namespace, name) => enqueueNamespace(namespace, (policy) => referencedConfigMapNames(policy.spec).includes(name)),
  });
  const context: ReconcileContext = {
    clients,
    logger,
    now: options.now ?? (() => new Date()),
    caches: {
      policies: (namespace) => informers.policies.list(namespace),
      deployments: (namespace) => informers.deployments.list(namespace),
      services: (namespace) => informers.services.list(namespace),
      ownedConfigMap: (namespace, name) => informers.configMaps.get(name, namespace),
      pageData: (namespace, name) => pages.data(namespace, name),
    },
    events: options.events ?? createEventRecorder({ clients, logger, reportingInstance: process.env['HOSTNAME'] ?? 'badgateway-operator' }),
    trackPages: (policyKey, namespace, names) => pages.track(policyKey, namespace, names),
  };
  const queue: WorkQueue = createWorkQueue({
    concurrency: options.maxConcurrentReconciles ?? 2,
    baseDelayMs: options.retryBaseDelayMs,
    maxDelayMs: options.retryMaxDelayMs,
    process: async (key) => {
      const started = performance.now();
      const [namespace = '', name = ''] = key.split('/');
      try {
        await reconcilePolicy(context, namespace, name);
        options.onReconcile?.({ key, durationMs: performance.now() - started });
      } catch (error) {
        options.onReconcile?.({ key, durationMs: performance.now() - started, error });
        throw error;
      }
    },
    onError: (key, error, attempt) => logger.warn({ policy: key, attempt, error: describe(error) }, 'reconcile failed; retrying with backoff'),
  });

  const enqueueNamespace = (namespace: string | undefined, filter: (policy: PolicyObject) => boolean = () => true): void => {
    // An empty namespace would list every policy of the cluster.
    if (namespace === undefined || namespace === '') return;
    for (const policy of informers.policies.list(namespace)) {
      if (filter(policy)) queue.add(keyOf(policy));
    }
  };
  const seenGenerations = new Map<string, number | undefined>();
  const deploymentChanges = trackDeploymentChanges();
  const claims = createClaimsIndex();
  for (const event of ['add', 'update', 'delete'] as const) {
    informers.policies.on(event, (policy) => {
      const key = keyOf(policy);
      const namespace = policy.metadata?.namespace;
      queue.add(key);
      // A deleted policy or a spec change may free a contested Deployment for another policy; a
      // status-only write (same generation, e.g. our own) concerns no other policy.
      const generation = policy.metadata?.generation;
      const specChanged = event === 'add' || (event === 'update' && seenGenerations.get(key) !== generation);
      if (event === 'delete') {
        seenGenerations.delete(key);
        claims.policyDeleted(policy, informers.deployments.list(namespace));
        enqueueNamespace(namespace);
      } else if (specChanged) {
        seenGenerations.set(key, generation);
        claims.policyChanged(policy, informers.deployments.list(namespace));
        if (event === 'update') enqueueNamespace(namespace);
      }
    });
    informers.deployments.on(event, (deployment) => {
      const namespace = deployment.metadata?.namespace ?? '';
      let concerned: string[];
      if (event === 'delete') {
        deploymentChanges.forget(deployment);
        concerned = claims.deploymentDeleted(deployment);
      } else {
        if (!deploymentChanges.changed(deployment)) return;
        concerned = claims.deploymentChanged(deployment, informers.policies.list(namespace));
      }
      for (const name of concerned) queue.add(`${namespace}/${name}`);
    });
    informers.services.on(event, (service) => enqueueNamespace(service.metadata?.namespace));
    // Only rendered ConfigMaps reach this informer (label selector); its policy re-renders it if edited or deleted.
    informers.configMaps.on(event, (configMap) => {
      const name = configMap.metadata?.name ?? '';
      enqueueNamespace(configMap.metadata?.namespace, (policy) => configMapNameFor(policy.metadata?.name ?? '') === name);
    });
  }

  const runners = [
    keepRunning(informers.configMaps, 'ConfigMap', logger, restartDelay),
    keepRunning(informers.services, 'Service', logger, restartDelay),
    keepRunning(informers.deployments, 'Deployment', logger, restartDelay),
    keepRunning(informers.policies, POLICY_KIND, logger, restartDelay),
  ];
  for (const runner of runners) await runner.start();

  const resync = setInterval(() => {
    for (const policy of informers.policies.list()) queue.add(keyOf(policy));
  }, options.resyncPeriodMs ?? 5 * 60_000);
  resync.unref();

  return {
    queueDepth: () => queue.depth(),
    policies: () => informers.policies.list().map((policy) => ({ conditions: policy.status?.conditions ?? [] })),
    watchedPages: () => pages.watched(),
    idle: () => queue.idle(),
    close: async () => {
      clearInterval(resync);
      queue.close();
      // Watches stop at once: one failing while the process shuts down (its API server may be going too) is no news.
      const watchesStopped = Promise.all([...runners.map((runner) => runner.stop()), pages.close()]);
      // Let a reconcile in flight finish (bounded), so nothing writes after close() resolves.
      await Promise.race([queue.idle(), delay(CLOSE_GRACE_MS, undefined, { ref: false })]);
      await watchesStopped;
    },
  };
}

function describe(error: unknown): string {
  const code = (error as { code?: number }).code;
  const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return code === undefined ? (message ?? '') : `HTTP ${code}: ${message ?? ''}`;
}

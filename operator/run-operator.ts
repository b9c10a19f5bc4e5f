/**
 * Composition of the operator process: clients, leader election (only the leader runs the
 * controller), the admission webhook on every replica, health + metrics, and clean shutdown.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../api/logger.js';
import { createEventRecorder } from './controller/events.js';
import { startController, type PolicyController } from './controller/index.js';
import { startHealthServer } from './health-server.js';
import type { InjectionSettings } from './inject/settings.js';
import { createKubeClients, loadKubeConfig, type KubeClients } from './kube/clients.js';
import { DEFAULT_RATE_LIMIT, type RateLimit } from './kube/rate-limit.js';
import { startLeaderElection, type LeaderElector } from './leader/lease.js';
import { createOperatorMetrics } from './metrics.js';
import { startWebhook } from './webhook/index.js';

export interface OperatorOptions {
  kubeconfig?: string;
  /** Watch only this namespace; all when undefined. */
  watchNamespace?: string;
  /** The operator's own namespace (webhook Secret, Service). */
  ownNamespace: string;
  webhook: false | { port: number; serviceName: string; secretName: string; webhookConfigName: string; certMode: 'self-signed' | 'external'; certDir?: string };
  leaderElection: false | { leaseName: string; leaseNamespace: string; leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number };
  metricsPort: number;
  host?: string;
  maxConcurrentReconciles: number;
  /** Client-side limit of the operator's API requests (default DEFAULT_RATE_LIMIT). */
  kubeApiRateLimit?: RateLimit;
  injection: InjectionSettings;
  logger: Logger;
  /** For tests: an already built client set. */
  clients?: KubeClients;
  resyncPeriodMs?: number;
  /** Leader election identity (the chart passes POD_NAME); default hostname plus a random suffix. */
  identity?: string;
}

export interface RunningOperator {
  metricsPort: number;
  webhookPort?: number;
  isLeader(): boolean;
  /** Resolves once the controller of the last step-down has stopped: its reconcile in flight finished (bounded). */
  controllerStopped(): Promise<void>;
  close(): Promise<void>;
}

export async function runOperator(options: OperatorOptions): Promise<RunningOperator> {
  const { logger } = options;
  const clients = options.clients ?? createKubeClients(loadKubeConfig(options.kubeconfig), { rateLimit: options.kubeApiRateLimit ?? DEFAULT_RATE_LIMIT });
  const metrics = createOperatorMetrics();
  let controller: PolicyController | undefined;
  let controllerStarting: Promise<void> = Promise.resolve();
  let leading = false;
  const identity = options.identity ?? `${hostname()}-${randomBytes(4).toString('hex')}`;
  const events = createEventRecorder({ clients, logger: logger.child({ subsystem: 'events' }), reportingInstance: identity });

  const startLeading = (): Promise<void> => {
    leading = true;
    metrics.setLeader(true);
    controllerStarting = controllerStarting.then(async () => {
      if (!leading || controller !== undefined) return;
      controller = await startController({
        clients, logger: logger.child({ subsystem: 'controller' }),
        namespace: options.watchNamespace,
        events,
        maxConcurrentReconciles: options.maxConcurrentReconciles,
        resyncPeriodMs: options.resyncPeriodMs,
        onReconcile: (outcome) => metrics.observeReconcile(outcome),
      });
      metrics.setQueueDepth(() => controller?.queueDepth() ?? 0);
      metrics.setPolicies(() => controller?.policies() ?? []);
      if (!leading) await stopController();
    });
    return controllerStarting;
  };
  const stopController = async (): Promise<void> => {
    const running = controller;
    controller = undefined;
    metrics.setQueueDepth(() => 0);
    metrics.setPolicies(() => []);
    await running?.close();
  };
  let controllerStopped: Promise<void> = Promise.resolve();
  const stopLeading = (): Promise<void> => {
    leading = false;
    metrics.setLeader(false);
    controllerStopped = stopController();
    return controllerStopped;
  };

  const webhook = options.webhook === false ? undefined : await startWebhook({
    clients, namespace: options.ownNamespace, watchNamespace: options.watchNamespace, port: options.webhook.port, host: options.host,
    serviceName: options.webhook.serviceName, secretName: options.webhook.secretName,
    webhookConfigName: options.webhook.webhookConfigName, certMode: options.webhook.certMode,
    certDir: options.webhook.certDir, injection: options.injection, logger: logger.child({ subsystem: 'webhook' }),
    onReview: (outcome) => metrics.observeWebhook(outcome),
    onCertificate: (notAfter) => metrics.setCertificateExpiry(notAfter),
  });

  let elector: LeaderElector | undefined;
  if (options.leaderElection === false) await startLeading();
  else {
    const lease = options.leaderElection;
    elector = startLeaderElection({
      clients, logger: logger.child({ subsystem: 'leader' }),
      identity,
      ...lease,
      onStartedLeading: () => {
        events.record(
          { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: lease.leaseName, namespace: lease.leaseNamespace },
          'Normal', 'LeaderElected', `${identity} became leader`,
        );
        void startLeading().catch((error: unknown) => logger.error({ error: (error as Error).message }, 'controller failed to start'));
      },
      onStoppedLeading: stopLeading,
    });
  }

  const health = await startHealthServer({
    host: options.host, port: options.metricsPort, metrics,
    ready: () => webhook?.ready() ?? true,
  });
  logger.info({ metricsPort: health.port, webhookPort: webhook?.port, watchNamespace: options.watchNamespace ?? '(all)' }, 'operator started');

  return {
    metricsPort: health.port,
    ...(webhook === undefined ? {} : { webhookPort: webhook.port }),
    isLeader: () => leading,
    controllerStopped: () => controllerStopped,
    close: async () => {
      // The controller stops before the Lease is released: never two leaders at work, and its
      // watches are told first, so a slow release does not leave them failing noisily meanwhile.
      const stopped = stopLeading();
      if (elector !== undefined) await elector.close();
      await stopped;
      await controllerStarting.catch(() => undefined);
      await stopController();
      await Promise.all([webhook?.close(), health.close()]);
    },
  };
}

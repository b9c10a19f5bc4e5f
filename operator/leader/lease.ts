/**
 * coordination.k8s.io/v1 Lease leader election. The holder renews every retry period; if it cannot
 * renew within the renew deadline it steps down at once (onStoppedLeading) before anyone else may
 * take over (lease duration > renew deadline). On close the lease is released for a fast failover.
 */
import { V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../../api/logger.js';
import type { KubeClients } from '../kube/clients.js';
import { isConflict, isNotFound } from '../kube/errors.js';

/**
 * A Lease's times are MicroTimes: kube-apiserver refuses (400) the millisecond form a plain Date
 * serializes to, including the ones read back from the server and sent again on update.
 */
function microTimes(spec: V1Lease['spec']): V1Lease['spec'] {
  if (spec === undefined) return undefined;
  return {
    ...spec,
    ...(spec.renewTime === undefined ? {} : { renewTime: new V1MicroTime(new Date(spec.renewTime).getTime()) }),
    ...(spec.acquireTime === undefined ? {} : { acquireTime: new V1MicroTime(new Date(spec.acquireTime).getTime()) }),
  };
}

export interface LeaderElectionOptions {
  clients: KubeClients;
  logger: Logger;
  leaseName: string;
  leaseNamespace: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  onStartedLeading(): void | Promise<void>;
  onStoppedLeading(): void | Promise<void>;
  /** The clock for lease times and the renew deadline alike (tests inject one). */
  now?: () => Date;
}

export interface LeaderElector {
  isLeader(): boolean;
  close(): Promise<void>;
}

export function startLeaderElection(options: LeaderElectionOptions): LeaderElector {
  const { clients, leaseName: name, leaseNamespace: namespace, identity, logger } = options;
  const now = options.now ?? (() => new Date());
  const nowMs = (): number => now().getTime();
  let leader = false;
  let closed = false;
  let lastRenewal = 0;
  let timer: NodeJS.Timeout | undefined;
  let cycle: Promise<void> = Promise.resolve();

  const leaseBody = (existing: V1Lease | undefined, acquiring: boolean): V1Lease => {
    const time = new V1MicroTime(now().getTime());
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { ...existing?.metadata, name, namespace },
      spec: {
        ...microTimes(existing?.spec),
        holderIdentity: identity,
        leaseDurationSeconds: Math.max(1, Math.ceil(options.leaseDurationMs / 1000)),
        renewTime: time,
        ...(acquiring ? { acquireTime: time, leaseTransitions: (existing?.spec?.leaseTransitions ?? 0) + (existing === undefined ? 0 : 1) } : {}),
      },
    };
  };

  const tryAcquireOrRenew = async (): Promise<boolean> => {
    let existing: V1Lease | undefined;
    try {
      existing = await clients.coordination.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (existing === undefined) {
      await clients.coordination.createNamespacedLease({ namespace, body: leaseBody(undefined, true) });
      return true;
    }
    const holder = existing.spec?.holderIdentity ?? '';
    const renewed = existing.spec?.renewTime === undefined ? 0 : new Date(existing.spec.renewTime).getTime();
    const durationMs = (existing.spec?.leaseDurationSeconds ?? 0) * 1000;
    const expired = holder === '' || renewed + durationMs < nowMs();
    if (holder !== identity && !expired) return false;
    await clients.coordination.replaceNamespacedLease({ name, namespace, body: leaseBody(existing, holder !== identity) });
    return true;
  };

  const becomeFollower = async (why: string): Promise<void> => {
    if (!leader) return;
    leader = false;
    logger.warn({ lease: `${namespace}/${name}`, why }, 'stopped leading');
    await options.onStoppedLeading();
  };

  const step = async (): Promise<void> => {
    if (closed) return;
    try {
      const held = await tryAcquireOrRenew();
      if (held) {
        lastRenewal = nowMs();
        if (!leader && !closed) {
          leader = true;
          logger.info({ lease: `${namespace}/${name}`, identity }, 'started leading');
          await options.onStartedLeading();
        }
      } else {
        await becomeFollower('another instance holds the lease');
      }
    } catch (error) {
      if (!isConflict(error)) logger.warn({ error: (error as Error).message.split('\n')[0] }, 'lease update failed');
      if (leader && nowMs() - lastRenewal > options.renewDeadlineMs) await becomeFollower('renew deadline passed');
    }
  };

  const schedule = (): void => {
    if (closed) return;
    timer = setTimeout(() => {
      cycle = step().finally(schedule);
    }, options.retryPeriodMs);
    timer.unref();
  };
  cycle = step().finally(schedule);
  // A renewal stuck on a slow API server must not keep us leading past the renew deadline.
  const watchdog = setInterval(() => {
    if (leader && nowMs() - lastRenewal > options.renewDeadlineMs) void becomeFollower('renew deadline passed');
  }, Math.max(50, Math.floor(options.retryPeriodMs / 2)));
  watchdog.unref();

  return {
    isLeader: () => leader,
    close: async () => {
      closed = true;
      clearInterval(watchdog);
      if (timer !== undefined) clearTimeout(timer);
      await cycle.catch(() => undefined);
      if (!leader) return;
      leader = false;
      await options.onStoppedLeading();
      try {
        const existing = await clients.coordination.readNamespacedLease({ name, namespace });
        if (existing.spec?.holderIdentity === identity) {
          await clients.coordination.replaceNamespacedLease({
            name, namespace,
            body: { ...existing, spec: { ...microTimes(existing.spec), holderIdentity: '', renewTime: new V1MicroTime(0) } },
          });
        }
      } catch (error) {
        logger.warn({ error: (error as Error).message.split('\n')[0] }, 'could not release the lease');
      }
    },
  };
}

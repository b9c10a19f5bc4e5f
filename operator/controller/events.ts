/**
 * Kubernetes Events (events.k8s.io/v1) for notable transitions. Best effort: a failed create is
 * logged, never thrown. Recorded off the reconcile's path, like client-go's EventBroadcaster: `record`
 * queues the Event and returns, one sender creates them in order, and a full queue drops new Events
 * with a warning, so a slow Events endpoint never holds a policy's Ready back. Deduplicated like client-go's correlator, but without a series patch (the
 * operator's RBAC grants `create` only): the same event about the same object within the dedup
 * window is skipped, so resyncs and retries never pile up Events.
 */
import { V1MicroTime } from '@kubernetes/client-node';
import type { Logger } from '../../api/logger.js';
import type { KubeClients } from '../kube/clients.js';

export interface EventRegarding {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** Queues the Event and returns. `reason` is CamelCase (e.g. `ConfigMapUpdated`); `note` a human sentence. */
  record(regarding: EventRegarding, type: EventType, reason: string, note: string): void;
  /** Resolves when every Event queued so far has been created or given up on. */
  drained(): Promise<void>;
}

export interface EventRecorderOptions {
  clients: KubeClients;
  logger: Logger;
  /** This replica (the Event's reportingInstance). */
  reportingInstance: string;
  /** Identical events about one object within this window are recorded once (default 10 min). */
  dedupWindowMs?: number;
  /** Bound on remembered events (oldest forgotten first). */
  maxRemembered?: number;
  /** Bound on Events waiting to be created; more are dropped (default 1000, client-go's). */
  maxQueued?: number;
  now?: () => Date;
}

export const REPORTING_CONTROLLER = 'badgateway.io/operator';
/** The API server rejects longer notes. */
const MAX_NOTE_LENGTH = 1024;

export function createEventRecorder(options: EventRecorderOptions): EventRecorder {
  const { clients, logger } = options;
  const now = options.now ?? (() => new Date());
  const windowMs = options.dedupWindowMs ?? 10 * 60_000;
  const maxRemembered = options.maxRemembered ?? 4096;
  // Insertion-ordered: re-recording moves a key to the end, so eviction drops the stalest.
  const lastRecorded = new Map<string, number>();

  const remember = (key: string, at: number): void => {
    lastRecorded.delete(key);
    lastRecorded.set(key, at);
    while (lastRecorded.size > maxRemembered) {
      const oldest = lastRecorded.keys().next().value;
      if (oldest === undefined) break;
      lastRecorded.delete(oldest);
    }
  };

  const maxQueued = options.maxQueued ?? 1000;
  let queued = 0;
  let sending: Promise<void> = Promise.resolve();

  const send = async (regarding: EventRegarding, type: EventType, reason: string, text: string, time: Date, key: string): Promise<void> => {
    try {
      await clients.events.createNamespacedEvent({
        namespace: regarding.namespace,
        body: {
          apiVersion: 'events.k8s.io/v1',
          kind: 'Event',
          // The prefix ends in '-': kube-apiserver validates generateName as a DNS subdomain, where only a trailing '-' is allowed.
          metadata: { generateName: `${regarding.name}-`, namespace: regarding.namespace },
          eventTime: new V1MicroTime(time.getTime()),
          action: 'Reconcile',
          reason,
          note: text,
          type,
          reportingController: REPORTING_CONTROLLER,
          reportingInstance: options.reportingInstance.slice(0, 128),
          regarding: { ...regarding },
        },
      });
    } catch (error) {
      // Not recorded, so not a duplicate: the next reconcile that has it to say may record it.
      if (lastRecorded.get(key) === time.getTime()) lastRecorded.delete(key);
      logger.debug({ reason, error: (error as Error).message.split('\n')[0] }, 'could not record event');
    }
  };

  return {
    record: (regarding, type, reason, note) => {
      const text = note.slice(0, MAX_NOTE_LENGTH);
      const key = JSON.stringify([regarding.namespace, regarding.kind, regarding.name, regarding.uid ?? '', type, reason, text]);
      const time = now();
      const previous = lastRecorded.get(key);
      if (previous !== undefined && time.getTime() - previous < windowMs) {
        logger.debug({ reason, object: `${regarding.namespace}/${regarding.name}` }, 'event deduplicated');
        return;
      }
      if (queued >= maxQueued) {
        logger.warn({ reason, object: `${regarding.namespace}/${regarding.name}`, queued }, 'event dropped: too many events waiting to be recorded');
        return;
      }
      // Remembered when queued, so a resync while it waits does not queue it twice.
      remember(key, time.getTime());
      queued += 1;
      sending = sending.then(() => send(regarding, type, reason, text, time, key)).finally(() => { queued -= 1; });
    },
    drained: () => sending,
  };
}

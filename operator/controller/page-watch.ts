/**
 * The ConfigMaps that policies reference for error pages (`configMapRef`). They belong to the user
 * and carry no label of ours, so they cannot share the label-filtered informer of the rendered
 * ConfigMaps; instead each referenced ConfigMap gets its own list + watch filtered by
 * `metadata.name`, started when the first policy references it and stopped when the last one
 * stops. The operator never lists or watches every ConfigMap of a namespace.
 */
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { Logger } from '../../api/logger.js';
import type { KubeClients } from '../kube/clients.js';
import { withoutBookkeeping } from '../kube/slim.js';
import { keepRunning, type CachedInformer } from './informers.js';

export interface PageWatcher {
  /**
   * Declares the ConfigMaps `policyKey` references in `namespace` (replacing what it declared
   * before) and resolves once each has been listed; rejects if one could not be listed yet (the
   * caller retries). An empty list releases everything the policy held.
   */
  track(policyKey: string, namespace: string, names: readonly string[]): Promise<void>;
  /** The data of a referenced ConfigMap, undefined when it does not exist. */
  data(namespace: string, name: string): Readonly<Record<string, string>> | undefined;
  /** `namespace/name` of every ConfigMap watched right now. */
  watched(): string[];
  close(): Promise<void>;
}

interface Watched {
  informer: CachedInformer<V1ConfigMap>;
  runner: { start(): Promise<void>; stop(): Promise<void> };
  started: Promise<void>;
  isListed(): boolean;
  users: Set<string>;
}

export interface PageWatcherOptions {
  clients: KubeClients;
  logger: Logger;
  restartDelayMs: number;
  /** A watched ConfigMap was added, changed or deleted. */
  onChange(namespace: string, name: string): void;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const isObjectName = (name: string): boolean => name.length <= 253 && DNS_SUBDOMAIN.test(name);

export function createPageWatcher(options: PageWatcherOptions): PageWatcher {
  const { clients, logger } = options;
  const watched = new Map<string, Watched>();
  const declared = new Map<string, Set<string>>(); // policy key → namespace/name it references
  let closed = false;

  const open = (namespace: string, name: string): Watched => {
    const fieldSelector = `metadata.name=${name}`;
    const state = { listed: false };
    const informer = clients.informer<V1ConfigMap>(
      `/api/v1/namespaces/${namespace}/configmaps`,
      async () => {
        const list = await clients.core.listNamespacedConfigMap({ namespace, fieldSelector });
        state.listed = true;
        return list;
      },
      { fieldSelector, transform: withoutBookkeeping },
    );
    for (const event of ['add', 'update', 'delete'] as const) informer.on(event, () => options.onChange(namespace, name));
    const runner = keepRunning(informer, `ConfigMap ${namespace}/${name}`, logger, options.restartDelayMs);
    return { informer, runner, started: runner.start(), isListed: () => state.listed, users: new Set() };
  };

  const release = (key: string, policyKey: string): Promise<void> | undefined => {
    const entry = watched.get(key);
    if (entry === undefined) return undefined;
    entry.users.delete(policyKey);
    if (entry.users.size > 0) return undefined;
    watched.delete(key);
    return entry.runner.stop();
  };

  return {
    track: async (policyKey, namespace, referenced) => {
      if (closed) return;
      // No ConfigMap can have another name: such a page renders as PageNotFound without a watch.
      const names = referenced.filter(isObjectName);
      const wanted = new Set(names.map((name) => `${namespace}/${name}`));
      const before = declared.get(policyKey) ?? new Set<string>();
      const stopping = [...before].filter((key) => !wanted.has(key)).map((key) => release(key, policyKey)).filter((stop) => stop !== undefined);
      if (wanted.size === 0) declared.delete(policyKey);
      else declared.set(policyKey, wanted);
      for (const name of names) {
        const key = `${namespace}/${name}`;
        let entry = watched.get(key);
        if (entry === undefined) {
          entry = open(namespace, name);
          watched.set(key, entry);
        }
        entry.users.add(policyKey);
      }
      await Promise.all(stopping);
      for (const name of names) {
        const entry = watched.get(`${namespace}/${name}`);
        if (entry === undefined) continue;
        await entry.started;
        // The informer retries in the background; the reconcile is retried with backoff meanwhile.
        if (!entry.isListed()) throw new Error(`ConfigMap ${namespace}/${name} could not be listed yet`);
      }
    },
    data: (namespace, name) => watched.get(`${namespace}/${name}`)?.informer.get(name, namespace)?.data,
    watched: () => [...watched.keys()].sort(),
    close: async () => {
      closed = true;
      const entries = [...watched.values()];
      watched.clear();
      declared.clear();
      await Promise.all(entries.map((entry) => entry.runner.stop()));
    },
  };
}

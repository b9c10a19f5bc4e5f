/* eslint-disable @typescript-eslint/no-explicit-any -- arbitrary Kubernetes JSON is walked by path here */
/**
 * The in-memory object store: one global resourceVersion counter, generation bumped on spec
 * changes only, finalizers, ownerReference cascade, and a bounded event history that watches
 * replay from (older resourceVersions get 410 Gone, as on the real server).
 */
import { randomUUID } from 'node:crypto';
import type { ResourceType } from './resources.js';
import { alreadyExists, conflict, gone, notFound } from './status.js';

export type KubeObject = { apiVersion?: string; kind?: string; metadata: Record<string, any>; [key: string]: any };
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  /** For MODIFIED: the object before, so selector watches can turn it into ADDED or DELETED. */
  previous?: KubeObject;
  resourceVersion: number;
  type_: ResourceType;
}

const HISTORY = 1000;

function keyOf(type: ResourceType, namespace: string | undefined, name: string): string {
  return `${type.group}/${type.plural}/${namespace ?? ''}/${name}`;
}

export class Store {
  private revision = 1;
  private readonly objects = new Map<string, { type: ResourceType; object: KubeObject }>();
  private history: WatchEvent[] = [];
  private readonly watchers = new Set<(event: WatchEvent) => void>();
  /** Events at or below this are gone from history (410 for watches starting earlier). */
  private compacted = 0;

  currentRevision(): number {
    return this.revision;
  }

  private emit(type: WatchEvent['type'], resource: ResourceType, object: KubeObject, previous?: KubeObject): void {
    const event: WatchEvent = { type, object: structuredClone(object), resourceVersion: Number(object.metadata.resourceVersion), type_: resource, ...(previous === undefined ? {} : { previous: structuredClone(previous) }) };
    this.history.push(event);
    if (this.history.length > HISTORY) {
      this.compacted = this.history[0]!.resourceVersion;
      this.history = this.history.slice(-HISTORY);
    }
    for (const watcher of this.watchers) watcher(event);
  }

  /** Forgets all history: every watch or list-from-resourceVersion before now gets 410 Gone. */
  expireHistory(): void {
    this.compacted = this.revision;
    this.history = [];
  }

  list(type: ResourceType, namespace?: string): KubeObject[] {
    const prefix = `${type.group}/${type.plural}/${namespace ?? ''}`;
    return [...this.objects.entries()]
      .filter(([key]) => (namespace === undefined ? key.startsWith(`${type.group}/${type.plural}/`) : key.startsWith(`${prefix}/`)))
      .map(([, entry]) => structuredClone(entry.object));
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const entry = this.objects.get(keyOf(type, namespace, name));
    if (entry === undefined) throw notFound(type.plural, type.group, name);
    return structuredClone(entry.object);
  }

  /** The object, or undefined when there is none. */
  find(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const entry = this.objects.get(keyOf(type, namespace, name));
    return entry === undefined ? undefined : structuredClone(entry.object);
  }

  create(type: ResourceType, namespace: string | undefined, input: KubeObject): KubeObject {
    const object = structuredClone(input);
    const metadata = object.metadata ?? {};
    if ((metadata.name === undefined || metadata.name === '') && typeof metadata.generateName === 'string') {
      metadata.name = `${metadata.generateName}${randomUUID().replace(/-/g, '').slice(0, 5)}`;
    }
    const key = keyOf(type, namespace, metadata.name);
    if (this.objects.has(key)) throw alreadyExists(type.plural, type.group, metadata.name);
    this.revision += 1;
    object.metadata = {
      ...metadata,
      ...(type.namespaced ? { namespace } : {}),
      uid: randomUUID(),
      creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      resourceVersion: String(this.revision),
      generation: 1,
    };
    delete object.metadata.deletionTimestamp;
    this.objects.set(key, { type, object });
    this.emit('ADDED', type, object);
    return structuredClone(object);
  }

  /** Replaces the object; `part` says which part the caller may change (main resource or status). */
  update(type: ResourceType, namespace: string | undefined, name: string, input: KubeObject, part: 'main' | 'status'): KubeObject {
    const entry = this.objects.get(keyOf(type, namespace, name));
    if (entry === undefined) throw notFound(type.plural, type.group, name);
    const current = entry.object;
    const wanted = input.metadata?.resourceVersion;
    if (wanted !== undefined && wanted !== '' && wanted !== current.metadata.resourceVersion) throw conflict(type.plural, type.group, name);
    let next: KubeObject;
    if (part === 'status') {
      next = { ...structuredClone(current), status: structuredClone(input.status) };
    } else {
      next = structuredClone(input);
      if (type.statusSubresource) {
        if (current.status === undefined) delete next.status;
        else next.status = structuredClone(current.status);
      }
      next.metadata = { ...next.metadata, uid: current.metadata.uid, creationTimestamp: current.metadata.creationTimestamp, generation: current.metadata.generation };
      if (current.metadata.deletionTimestamp !== undefined) next.metadata.deletionTimestamp = current.metadata.deletionTimestamp;
      if (type.namespaced) next.metadata.namespace = namespace;
      if (JSON.stringify(next.spec) !== JSON.stringify(current.spec)) next.metadata.generation = Number(current.metadata.generation ?? 1) + 1;
    }
    if (JSON.stringify({ ...next, metadata: { ...next.metadata, resourceVersion: '' } }) === JSON.stringify({ ...current, metadata: { ...current.metadata, resourceVersion: '' } })) {
      return structuredClone(current); // a no-op write does not bump resourceVersion, as on the real server
    }
    this.revision += 1;
    next.metadata.resourceVersion = String(this.revision);
    entry.object = next;
    if (next.metadata.deletionTimestamp !== undefined && (next.metadata.finalizers ?? []).length === 0) {
      this.remove(type, namespace, name);
      return structuredClone(next);
    }
    this.emit('MODIFIED', type, next, current);
    return structuredClone(next);
  }

  delete(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const entry = this.objects.get(keyOf(type, namespace, name));
    if (entry === undefined) throw notFound(type.plural, type.group, name);
    if ((entry.object.metadata.finalizers ?? []).length > 0) {
      if (entry.object.metadata.deletionTimestamp === undefined) {
        this.revision += 1;
        entry.object.metadata.deletionTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        entry.object.metadata.resourceVersion = String(this.revision);
        this.emit('MODIFIED', type, entry.object);
      }
      return structuredClone(entry.object);
    }
    return this.remove(type, namespace, name);
  }

  private remove(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const key = keyOf(type, namespace, name);
    const entry = this.objects.get(key) as { object: KubeObject };
    this.objects.delete(key);
    this.revision += 1;
    const removed = { ...entry.object, metadata: { ...entry.object.metadata, resourceVersion: String(this.revision) } };
    this.emit('DELETED', type, removed);
    // Background cascade, like the garbage collector: dependents of the removed owner go too.
    const uid = entry.object.metadata.uid;
    setImmediate(() => {
      for (const [, dependent] of [...this.objects.entries()]) {
        if ((dependent.object.metadata.ownerReferences ?? []).some((owner: { uid?: string }) => owner.uid === uid)) {
          try {
            this.delete(dependent.type, dependent.object.metadata.namespace, dependent.object.metadata.name);
          } catch {
            // already gone
          }
        }
      }
    });
    return structuredClone(removed);
  }

  /** Events after `fromRevision` that match, then live ones; 410 when history no longer reaches back. */
  watch(fromRevision: number | undefined, matches: (event: WatchEvent) => boolean, send: (event: WatchEvent) => void): () => void {
    if (fromRevision !== undefined && fromRevision > 0 && fromRevision < this.compacted) {
      throw gone(`too old resource version: ${fromRevision} (${this.compacted})`);
    }
    if (fromRevision !== undefined && fromRevision > 0) {
      for (const event of this.history) if (event.resourceVersion > fromRevision && matches(event)) send(event);
    }
    const watcher = (event: WatchEvent) => {
      if (matches(event)) send(event);
    };
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }
}

/* eslint-disable @typescript-eslint/no-explicit-any -- arbitrary Kubernetes JSON is walked by path here */
/**
 * `metadata.managedFields` for writes that are not applies (create, update, patch): the writer
 * (the `fieldManager` query parameter, else the User-Agent's product name, as kube-apiserver
 * does) becomes an `Update` manager of the fields it changed, which leave every other manager;
 * fields that disappeared leave all managers.
 */
import type { IncomingMessage } from 'node:http';
import { fieldSetOf, fromFieldsV1, splitPath, toFieldsV1, valueAt, type FieldSet } from './field-set.js';
import { groupVersion, type ResourceType } from './resources.js';
import type { KubeObject } from './store.js';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, any>;
  subresource?: string;
}

export interface Manager { manager: string; operation: 'Apply' | 'Update'; subresource?: string }

export const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** `?fieldManager=`, else what precedes the first `/` of the User-Agent (`kubectl/v1.35.2 ...` → `kubectl`). */
export function managerName(req: IncomingMessage, url: URL): string {
  const explicit = url.searchParams.get('fieldManager');
  if (explicit !== null && explicit !== '') return explicit;
  const agent = String(req.headers['user-agent'] ?? 'unknown');
  return agent.split('/')[0] ?? 'unknown';
}

export const sameManager = (entry: Pick<ManagedFieldsEntry, 'manager' | 'operation' | 'subresource'>, manager: Manager): boolean =>
  entry.manager === manager.manager && entry.operation === manager.operation && (entry.subresource ?? '') === (manager.subresource ?? '');

/** Working form of managedFields: each entry with its field set. */
export interface OwnedFields { entry: ManagedFieldsEntry; set: FieldSet }

export function ownedFields(object: KubeObject | undefined): OwnedFields[] {
  const entries = (object?.metadata?.managedFields ?? []) as ManagedFieldsEntry[];
  return entries.map((entry) => ({ entry, set: fromFieldsV1(entry.fieldsV1) }));
}

/** Back to `metadata.managedFields`: empty entries dropped; an entry's time moves only when its fields did. */
export function serialize(owned: OwnedFields[], touched: Set<OwnedFields>): ManagedFieldsEntry[] {
  return owned.filter(({ set }) => set.size > 0).map((item) => ({
    ...item.entry,
    ...(touched.has(item) ? { time: now() } : {}),
    fieldsV1: toFieldsV1(item.set),
  }));
}

/** The entry for `manager`, created (empty) when missing. */
export function entryFor(owned: OwnedFields[], manager: Manager, type: ResourceType): OwnedFields {
  const found = owned.find((item) => sameManager(item.entry, manager));
  if (found !== undefined) return found;
  const created: OwnedFields = {
    entry: { manager: manager.manager, operation: manager.operation, apiVersion: groupVersion(type), time: now(), fieldsType: 'FieldsV1', fieldsV1: {}, ...(manager.subresource === undefined ? {} : { subresource: manager.subresource }) },
    set: new Set(),
  };
  owned.push(created);
  return created;
}

const sameValue = (left: unknown, right: unknown): boolean => JSON.stringify(left) === JSON.stringify(right);

/**
 * `after` with managedFields recording a non-apply write by `manager`. A client that sends
 * managedFields different from the stored ones replaces them (as kubectl does when it migrates
 * client-side-apply ownership); an empty list clears them.
 */
export function recordUpdate(type: ResourceType, before: KubeObject | undefined, after: KubeObject, manager: string, part: 'main' | 'status'): KubeObject {
  const sent = after.metadata?.managedFields;
  const base = sent !== undefined && !sameValue(sent, before?.metadata?.managedFields) ? after : before;
  const owned = ownedFields(base);
  const beforeSet = before === undefined ? new Set<string>() : fieldSetOf(type, before, part);
  const afterSet = fieldSetOf(type, after, part);
  const changed = [...afterSet].filter((key) => !beforeSet.has(key) || !sameValue(valueAt(before, splitPath(key)), valueAt(after, splitPath(key))));
  const removed = [...beforeSet].filter((key) => !afterSet.has(key));
  const touched = new Set<OwnedFields>();
  for (const item of owned) {
    for (const key of [...removed, ...changed]) if (item.set.delete(key)) touched.add(item);
  }
  if (changed.length > 0) {
    const mine = entryFor(owned, { manager, operation: 'Update', ...(part === 'status' ? { subresource: 'status' } : {}) }, type);
    for (const key of changed) mine.set.add(key);
    touched.add(mine);
  }
  const managedFields = serialize(owned, touched);
  const result = { ...after, metadata: { ...after.metadata } };
  if (managedFields.length > 0) result.metadata.managedFields = managedFields;
  else delete result.metadata.managedFields;
  return result;
}

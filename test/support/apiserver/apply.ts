/* eslint-disable @typescript-eslint/no-explicit-any -- arbitrary Kubernetes JSON is walked by path here */
/**
 * Server-side apply (`PATCH` with `application/apply-patch+yaml`), as Helm 4 and
 * `kubectl apply --server-side` use it: the applied configuration is merged into the live object
 * (or becomes a new one), its fields are owned by the `Apply` entry of `?fieldManager=`; a field
 * another manager owns with a different value is a 409 Conflict naming the managers and fields,
 * unless `?force=true` takes it over; fields this manager applied before and no longer applies
 * are removed unless someone else owns them too.
 */
import { parse } from 'yaml';
import { describePath, fieldSetOf, itemElement, joinPath, removeAt, splitPath, valueAt, type FieldSet } from './field-set.js';
import { entryFor, ownedFields, serialize, type OwnedFields } from './managed-fields.js';
import { groupVersion, type ResourceType } from './resources.js';
import { ApiError, badRequest } from './status.js';
import type { KubeObject } from './store.js';

export const APPLY_PATCH = 'application/apply-patch+yaml';

/** The body of an apply request: YAML or JSON, one object of the URL's kind. */
export function parseAppliedConfiguration(body: string, type: ResourceType, name: string): KubeObject {
  let config: any;
  try {
    config = parse(body);
  } catch (error) {
    throw badRequest(`error decoding YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) throw badRequest('the applied configuration must be an object');
  if (config.apiVersion !== groupVersion(type) || config.kind !== type.kind) {
    throw badRequest(`the applied configuration is ${String(config.apiVersion)}, Kind=${String(config.kind)}, not ${groupVersion(type)}, Kind=${type.kind}`);
  }
  if (config.metadata?.name !== undefined && config.metadata.name !== name) throw badRequest(`the name of the applied configuration (${String(config.metadata.name)}) does not match the name in the URL (${name})`);
  return { ...config, metadata: { ...config.metadata, name } };
}

/** Lists are merged item by item where the field set keys them, replaced where they are atomic. */
function merge(live: any, applied: any, path: string[], appliedSet: FieldSet): any {
  if (Array.isArray(applied)) {
    if (!isKeyedList(applied, path, appliedSet)) return structuredClone(applied);
    const result = Array.isArray(live) ? structuredClone(live) : [];
    for (const item of applied) {
      const element = keyedElement(item, path, appliedSet) as string;
      const keys = JSON.parse(element.slice(2)) as Record<string, unknown>;
      const index = result.findIndex((existing: any) => Object.entries(keys).every(([key, value]) => existing?.[key] === value));
      if (index >= 0) result[index] = merge(result[index], item, [...path, element], appliedSet);
      else result.push(structuredClone(item));
    }
    return result;
  }
  if (applied === null || typeof applied !== 'object') return applied;
  const result = live !== null && typeof live === 'object' && !Array.isArray(live) ? structuredClone(live) : {};
  for (const [key, value] of Object.entries(applied)) result[key] = merge(result[key], value, [...path, `f:${key}`], appliedSet);
  return result;
}

/** The `k:{...}` element the field set uses for this item, if its list is keyed. */
function keyedElement(item: any, path: string[], appliedSet: FieldSet): string | undefined {
  const prefix = `${joinPath(path)}\u0000k:`;
  for (const key of appliedSet) {
    if (!key.startsWith(prefix)) continue;
    const element = splitPath(key)[path.length] as string;
    const keys = Object.keys(JSON.parse(element.slice(2)) as Record<string, unknown>);
    if (element === itemElement(item, keys)) return element;
  }
  return undefined;
}

function isKeyedList(value: any, path: string[], appliedSet: FieldSet): boolean {
  return Array.isArray(value) && value.length > 0 && value.every((item) => keyedElement(item, path, appliedSet) !== undefined);
}

export interface ApplyRequest { type: ResourceType; live: KubeObject | undefined; config: KubeObject; manager: string; force: boolean; part: 'main' | 'status' }

/** The object after the apply, with its managedFields; throws 409 on conflicts without force. */
export function serverSideApply({ type, live, config, manager, force, part }: ApplyRequest): KubeObject {
  const appliedSet = fieldSetOf(type, config, part);
  const owned = ownedFields(live);
  const me = { manager, operation: 'Apply' as const, ...(part === 'status' ? { subresource: 'status' } : {}) };
  const mine = entryFor(owned, me, type);
  const conflicts: Array<{ item: OwnedFields; key: string }> = [];
  for (const item of owned) {
    if (item === mine) continue;
    for (const key of appliedSet) {
      if (!item.set.has(key)) continue;
      const path = splitPath(key);
      const appliedValue = valueAt(config, path);
      const isNode = appliedValue !== null && typeof appliedValue === 'object' && !Array.isArray(appliedValue) && Object.keys(appliedValue).length > 0;
      if (!isNode && JSON.stringify(appliedValue) !== JSON.stringify(valueAt(live, path))) conflicts.push({ item, key });
    }
  }
  if (conflicts.length > 0 && !force) throw conflictError(type, config.metadata.name, conflicts);
  const sameSet = mine.set.size === appliedSet.size && [...appliedSet].every((key) => mine.set.has(key));
  const touched = new Set<OwnedFields>(sameSet ? [] : [mine]);
  for (const { item, key } of conflicts) {
    item.set.delete(key);
    touched.add(item);
  }
  const result = merge(live ?? {}, config, [], appliedSet) as KubeObject;
  const ownedByOthers = new Set(owned.filter((item) => item !== mine).flatMap((item) => [...item.set]));
  const dropped = [...mine.set].filter((key) => !appliedSet.has(key) && !ownedByOthers.has(key));
  // Deepest first, so an item's fields go before the item.
  for (const key of dropped.sort((left, right) => splitPath(right).length - splitPath(left).length)) removeAt(result, splitPath(key));
  mine.set = appliedSet;
  result.metadata = { ...result.metadata, managedFields: serialize(owned, touched) };
  return result;
}

function conflictError(type: ResourceType, name: string, conflicts: Array<{ item: OwnedFields; key: string }>): ApiError {
  const causes = conflicts.map(({ item, key }) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with "${item.entry.manager}"${item.entry.operation === 'Update' ? ` using ${item.entry.apiVersion}` : ''}`,
    field: describePath(splitPath(key)),
  }));
  const lines = causes.map((cause) => `${cause.message}: ${cause.field}`);
  const message = `Apply failed with ${causes.length} conflict${causes.length === 1 ? '' : 's'}: ${lines.join('\n')}`;
  return new ApiError(409, 'Conflict', message, { name, group: type.group, kind: type.plural, causes });
}

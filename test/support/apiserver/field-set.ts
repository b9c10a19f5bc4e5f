/* eslint-disable @typescript-eslint/no-explicit-any -- arbitrary Kubernetes JSON is walked by path here */
/**
 * Field sets as server-side apply sees an object: every leaf (scalar, atomic list, empty object)
 * and every node that is owned as a whole (an item of a keyed list, a string map such as labels),
 * each named by a path of `f:<field>` and `k:{"<key>":<value>}` elements. Converts to and from
 * the `FieldsV1` trie of `metadata.managedFields` (`{"f:spec":{"f:replicas":{}}}`, `".": {}`
 * marking a node that is itself a member).
 */
import type { ResourceType } from './resources.js';

export type FieldPath = string[];
/** Paths joined with NUL, so they can live in a Set. */
export type FieldSet = Set<string>;

const SEPARATOR = '\u0000';
export const joinPath = (path: FieldPath): string => path.join(SEPARATOR);
export const splitPath = (key: string): FieldPath => (key === '' ? [] : key.split(SEPARATOR));

/** Merge keys of the built-in lists that are maps (listType=map in the Kubernetes types); other lists are atomic. */
const BUILTIN_LIST_KEYS: Record<string, string[]> = {
  containers: ['name'], initContainers: ['name'], ephemeralContainers: ['name'], volumes: ['name'], env: ['name'],
  volumeMounts: ['mountPath'], imagePullSecrets: ['name'], conditions: ['type'], webhooks: ['name'], versions: ['name'],
};
/** Built-in fields that are string maps: each key is owned on its own, and the map as a node. */
const STRING_MAPS = new Set(['labels', 'annotations', 'data', 'binaryData', 'stringData', 'matchLabels', 'nodeSelector', 'selector']);

/** Which fields of an object a field set never covers: identity and server-set metadata. */
const SERVER_OWNED_METADATA = ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName'];

/** The keys a list at `field` is merged by, or undefined for an atomic list. */
function listKeys(type: ResourceType, field: string, items: any[], schema: Record<string, any> | undefined): string[] | undefined {
  if (type.schema !== undefined) {
    return schema?.['x-kubernetes-list-type'] === 'map' ? schema['x-kubernetes-list-map-keys'] : undefined;
  }
  // `ports` is keyed by containerPort in a container and by port in a Service.
  const keys = field === 'ports' ? (items.some((item) => item?.containerPort !== undefined) ? ['containerPort', 'protocol'] : ['port', 'protocol']) : BUILTIN_LIST_KEYS[field];
  if (keys === undefined || !items.every((item) => item !== null && typeof item === 'object' && !Array.isArray(item))) return undefined;
  return keys;
}

/** `k:{"name":"web"}` for an item of a keyed list (keys the item lacks are left out). */
export function itemElement(item: Record<string, any>, keys: string[]): string {
  const present = keys.filter((key) => item[key] !== undefined).sort();
  return `k:${JSON.stringify(Object.fromEntries(present.map((key) => [key, item[key]])))}`;
}

function childSchema(schema: Record<string, any> | undefined, key: string): Record<string, any> | undefined {
  if (schema === undefined) return undefined;
  return schema.properties?.[key] ?? (typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined);
}

/** The field set of `object` for `type` (status left out where it is a subresource, and the reverse). */
export function fieldSetOf(type: ResourceType, object: Record<string, any>, part: 'main' | 'status' = 'main'): FieldSet {
  const set: FieldSet = new Set();
  const walk = (value: any, path: FieldPath, field: string, schema: Record<string, any> | undefined, node: boolean): void => {
    if (Array.isArray(value)) {
      const keys = listKeys(type, field, value, schema);
      if (keys === undefined) {
        set.add(joinPath(path));
        return;
      }
      for (const item of value) walk(item, [...path, itemElement(item, keys)], '', schema?.items, true);
      return;
    }
    if (value === null || typeof value !== 'object' || Object.keys(value).length === 0) {
      set.add(joinPath(path));
      return;
    }
    const isStringMap = type.schema === undefined ? STRING_MAPS.has(field) && Object.values(value).every((entry) => typeof entry === 'string') : schema?.additionalProperties !== undefined && schema.properties === undefined;
    if (node || isStringMap) set.add(joinPath(path));
    for (const [key, child] of Object.entries(value)) walk(child, [...path, `f:${key}`], key, childSchema(schema, key), false);
  };
  for (const [key, value] of Object.entries(object)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (type.statusSubresource && (part === 'main') === (key === 'status')) continue;
    if (key === 'metadata') {
      for (const [metaKey, metaValue] of Object.entries(value ?? {})) {
        if (!SERVER_OWNED_METADATA.includes(metaKey)) walk(metaValue, ['f:metadata', `f:${metaKey}`], metaKey, undefined, false);
      }
      continue;
    }
    walk(value, [`f:${key}`], key, childSchema(type.schema, key), false);
  }
  return set;
}

/** The value at `path` in `object`, or undefined when absent. */
export function valueAt(object: any, path: FieldPath): any {
  let current = object;
  for (const element of path) {
    if (current === null || current === undefined) return undefined;
    if (element.startsWith('f:')) current = current[element.slice(2)];
    else {
      const key = JSON.parse(element.slice(2)) as Record<string, unknown>;
      current = Array.isArray(current) ? current.find((item) => Object.entries(key).every(([name, wanted]) => item?.[name] === wanted)) : undefined;
    }
  }
  return current;
}

/** Removes the field or list item at `path` from `object` (in place); missing parents are fine. */
export function removeAt(object: any, path: FieldPath): void {
  const parent = valueAt(object, path.slice(0, -1));
  const last = path[path.length - 1] as string;
  if (parent === null || typeof parent !== 'object') return;
  if (last.startsWith('f:')) {
    if (!Array.isArray(parent)) delete parent[last.slice(2)];
    return;
  }
  if (!Array.isArray(parent)) return;
  const key = JSON.parse(last.slice(2)) as Record<string, unknown>;
  const index = parent.findIndex((item) => Object.entries(key).every(([name, wanted]) => item?.[name] === wanted));
  if (index >= 0) parent.splice(index, 1);
}

/** `.spec.template.spec.containers[name="web"].image`, as kube-apiserver names a conflicting field. */
export function describePath(path: FieldPath): string {
  return path.map((element) => {
    if (element.startsWith('f:')) return `.${element.slice(2)}`;
    const key = JSON.parse(element.slice(2)) as Record<string, unknown>;
    return `[${Object.entries(key).map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(',')}]`;
  }).join('');
}

export function toFieldsV1(set: FieldSet): Record<string, any> {
  const root: Record<string, any> = {};
  const keys = [...set].sort();
  for (const key of keys) {
    let node = root;
    for (const element of splitPath(key)) node = node[element] ??= {};
  }
  // A member that has children in the trie is marked with ".".
  for (const key of keys) {
    const node = splitPath(key).reduce((current, element) => current[element], root);
    if (Object.keys(node).length > 0) node['.'] = {};
  }
  return root;
}

export function fromFieldsV1(fields: Record<string, any> | undefined): FieldSet {
  const set: FieldSet = new Set();
  const walk = (node: Record<string, any>, path: FieldPath): void => {
    const children = Object.keys(node).filter((key) => key !== '.');
    if (children.length === 0 || '.' in node) {
      if (path.length > 0) set.add(joinPath(path));
    }
    for (const child of children) walk(node[child] ?? {}, [...path, child]);
  };
  walk(fields ?? {}, []);
  return set;
}

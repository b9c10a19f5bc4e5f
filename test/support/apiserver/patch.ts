/* eslint-disable @typescript-eslint/no-explicit-any -- arbitrary Kubernetes JSON is walked by path here */
/** The three patch types kube-apiserver accepts for built-ins (and the two it accepts for CRDs). */
import { badRequest } from './status.js';

type Json = any;

export function mergePatch(target: Json, patch: Json): Json {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const result = target !== null && typeof target === 'object' && !Array.isArray(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

function pointer(path: string): string[] {
  return path.split('/').slice(1).map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function jsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations)) throw badRequest('json patch must be an array of operations');
  let document = structuredClone(target);
  for (const operation of operations) {
    const segments = pointer(String(operation.path));
    if (segments.length === 0) {
      document = structuredClone(operation.value);
      continue;
    }
    let parent = document;
    for (const segment of segments.slice(0, -1)) {
      parent = parent?.[Array.isArray(parent) ? Number(segment) : segment];
      if (parent === undefined) throw badRequest(`json patch: path ${operation.path} does not exist`);
    }
    const last = segments.at(-1) as string;
    const index = last === '-' ? parent.length : Number(last);
    switch (operation.op) {
      case 'add':
        if (Array.isArray(parent)) parent.splice(index, 0, structuredClone(operation.value));
        else parent[last] = structuredClone(operation.value);
        break;
      case 'replace':
        if (Array.isArray(parent)) parent[index] = structuredClone(operation.value);
        else {
          if (!(last in parent)) throw badRequest(`json patch: replace of missing ${operation.path}`);
          parent[last] = structuredClone(operation.value);
        }
        break;
      case 'remove':
        if (Array.isArray(parent)) parent.splice(index, 1);
        else {
          if (!(last in parent)) throw badRequest(`json patch: remove of missing ${operation.path}`);
          delete parent[last];
        }
        break;
      case 'test':
        if (JSON.stringify(Array.isArray(parent) ? parent[index] : parent[last]) !== JSON.stringify(operation.value)) {
          throw new (class extends Error {})(`json patch test failed at ${operation.path}`);
        }
        break;
      default:
        throw badRequest(`json patch: unsupported op ${String(operation.op)}`);
    }
  }
  return document;
}

/** Lists merged by key, as the built-in types declare with patchMergeKey. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  conditions: 'type',
};

export function strategicMergePatch(target: Json, patch: Json, field?: string): Json {
  if (Array.isArray(patch) && field !== undefined && MERGE_KEYS[field] !== undefined && Array.isArray(target)) {
    const key = MERGE_KEYS[field] as string;
    const result = structuredClone(target);
    for (const item of patch) {
      if (item !== null && typeof item === 'object' && item.$patch === 'delete') {
        const at = result.findIndex((existing: Json) => existing?.[key] === item[key]);
        if (at >= 0) result.splice(at, 1);
        continue;
      }
      const at = result.findIndex((existing: Json) => existing?.[key] !== undefined && existing[key] === item?.[key]);
      if (at >= 0) result[at] = strategicMergePatch(result[at], item);
      else result.push(structuredClone(item));
    }
    return result;
  }
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const result = target !== null && typeof target === 'object' && !Array.isArray(target) ? structuredClone(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch') continue;
    if (value === null) delete result[key];
    else result[key] = strategicMergePatch(result[key], value, key);
  }
  return result;
}

/**
 * An RFC 6902 JSON Patch that turns `before` into `after`: objects key by key, arrays of equal
 * length element by element, anything else replaced whole (simple, always correct, and small
 * for Deployments).
 */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace';
  path: string;
  value?: unknown;
}

function pointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function diff(before: unknown, after: unknown, path = ''): JsonPatchOperation[] {
  if (isObject(before) && isObject(after)) {
    const operations: JsonPatchOperation[] = [];
    for (const key of Object.keys(before)) {
      if (!(key in after) || after[key] === undefined) {
        if (before[key] !== undefined) operations.push({ op: 'remove', path: `${path}/${pointer(key)}` });
      }
    }
    for (const [key, value] of Object.entries(after)) {
      if (value === undefined) continue;
      if (!(key in before) || before[key] === undefined) operations.push({ op: 'add', path: `${path}/${pointer(key)}`, value });
      else operations.push(...diff(before[key], value, `${path}/${pointer(key)}`));
    }
    return operations;
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    return before.flatMap((item, index) => diff(item, after[index], `${path}/${index}`));
  }
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  return [{ op: 'replace', path, value: after }];
}

/** Applies a patch made by `diff` (add/remove/replace on object keys and whole values). */
export function applyPatch<T>(document: T, operations: readonly JsonPatchOperation[]): T {
  const result = structuredClone(document) as unknown;
  let root = result;
  for (const operation of operations) {
    const segments = operation.path.split('/').slice(1).map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (segments.length === 0) {
      root = operation.value;
      continue;
    }
    let parent = root as Record<string, unknown>;
    for (const segment of segments.slice(0, -1)) parent = parent[segment] as Record<string, unknown>;
    const last = segments[segments.length - 1] as string;
    if (operation.op === 'remove') delete parent[last];
    else parent[last] = structuredClone(operation.value);
  }
  return root as T;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- arbitrary Kubernetes JSON is walked by path here */
/**
 * CRD structural-schema validation as kube-apiserver does it: defaults applied, unknown fields
 * pruned, then types, required, enum, bounds, lengths and patterns checked, each problem named by
 * its field path.
 */
type Schema = Record<string, any>;

export interface FieldProblem { field: string; message: string }

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Defaults and pruning, in place on a copy; returns the new value. */
export function defaultAndPrune(schema: Schema | undefined, value: any): any {
  if (schema === undefined || schema['x-kubernetes-preserve-unknown-fields'] === true) return value;
  if (schema.type === 'object' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const properties: Record<string, Schema> | undefined = schema.properties;
    if (properties !== undefined) {
      for (const key of Object.keys(value)) if (!(key in properties)) delete value[key];
      for (const [key, child] of Object.entries(properties)) {
        if (value[key] === undefined && child.default !== undefined) value[key] = structuredClone(child.default);
        if (value[key] !== undefined) value[key] = defaultAndPrune(child, value[key]);
      }
    } else if (typeof schema.additionalProperties === 'object') {
      for (const key of Object.keys(value)) value[key] = defaultAndPrune(schema.additionalProperties, value[key]);
    }
  }
  if (schema.type === 'array' && Array.isArray(value) && schema.items !== undefined) return value.map((item) => defaultAndPrune(schema.items, item));
  return value;
}

export function validate(schema: Schema | undefined, value: any, path: string, problems: FieldProblem[]): void {
  if (schema === undefined || value === undefined) return;
  const actual = typeOf(value);
  if (schema['x-kubernetes-int-or-string'] === true) {
    if (actual !== 'integer' && actual !== 'string') {
      problems.push({ field: path, message: `Invalid value: "${actual}": ${path} in body must be of type integer or string: "${actual}"` });
      return;
    }
    // The structural shape (api/crd.ts): allOf's type-less members bind numbers or strings by keyword.
    for (const member of (schema.allOf as Schema[] | undefined) ?? []) validate({ ...member, anyOf: undefined }, value, path, problems);
  }
  if (schema.type !== undefined && !(schema.type === actual || (schema.type === 'number' && actual === 'integer'))) {
    problems.push({ field: path, message: `Invalid value: "${actual}": ${path} in body must be of type ${schema.type}: "${actual}"` });
    return;
  }
  if (schema.enum !== undefined && !schema.enum.some((option: unknown) => JSON.stringify(option) === JSON.stringify(value))) {
    problems.push({ field: path, message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${schema.enum.map((option: unknown) => `"${String(option)}"`).join(', ')}` });
  }
  if (typeof value === 'number') {
    if (schema.exclusiveMinimum === true && value <= schema.minimum) problems.push({ field: path, message: `Invalid value: ${value}: ${path} in body should be greater than ${schema.minimum}` });
    else if (schema.minimum !== undefined && value < schema.minimum) problems.push({ field: path, message: `Invalid value: ${value}: ${path} in body should be greater than or equal to ${schema.minimum}` });
    if (schema.maximum !== undefined && value > schema.maximum) problems.push({ field: path, message: `Invalid value: ${value}: ${path} in body should be less than or equal to ${schema.maximum}` });
  }
  if (typeof value === 'string') {
    if (schema.minLength !== undefined && value.length < schema.minLength) problems.push({ field: path, message: `Invalid value: "${value}": ${path} in body should be at least ${schema.minLength} chars long` });
    if (schema.maxLength !== undefined && value.length > schema.maxLength) problems.push({ field: path, message: `Too long: may not be more than ${schema.maxLength} bytes` });
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value)) problems.push({ field: path, message: `Invalid value: "${value}": ${path} in body should match '${schema.pattern}'` });
  }
  if (Array.isArray(value)) {
    if (schema.maxItems !== undefined && value.length > schema.maxItems) problems.push({ field: path, message: `Too many: ${value.length}: must have at most ${schema.maxItems} items` });
    value.forEach((item, index) => validate(schema.items, item, `${path}[${index}]`, problems));
  }
  if (actual === 'object') {
    for (const name of schema.required ?? []) if (value[name] === undefined) problems.push({ field: `${path}.${name}`, message: 'Required value' });
    for (const [name, child] of Object.entries<Schema>(schema.properties ?? {})) validate(child, value[name], `${path}.${name}`, problems);
    if (typeof schema.additionalProperties === 'object') for (const [name, child] of Object.entries(value)) validate(schema.additionalProperties, child, `${path}.${name}`, problems);
  }
}

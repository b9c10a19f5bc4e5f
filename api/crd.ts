/**
 * Generates the BadGatewayPolicy CustomResourceDefinition from api/schema.ts. Kubernetes wants a
 * structural schema, so the TypeBox output is translated: literal unions become enums, records
 * become additionalProperties maps, fields with defaults are not required, and keywords the API
 * server forbids (uniqueItems, additionalProperties: false next to properties) are dropped.
 */
import {
  API_GROUP,
  API_VERSION,
  CRD_NAME,
  POLICY_KIND,
  POLICY_LIST_KIND,
  POLICY_PLURAL,
  POLICY_SHORT_NAME,
  POLICY_SINGULAR,
} from './names.js';
import { PolicySpecSchema } from './schema.js';
import { PolicyStatusSchema } from './status.js';

type JsonSchema = { [key: string]: unknown };

const DROPPED_KEYWORDS = new Set(['$id', 'uniqueItems', '$schema']);

/** A union of string literals and integers, e.g. `limit: adaptive | 20`. */
function isIntOrString(options: JsonSchema[]): boolean {
  const isString = (option: JsonSchema) => typeof option.const === 'string' || option.type === 'string';
  return options.some(isString) && options.some((option) => option.type === 'integer')
    && options.every((option) => isString(option) || option.type === 'integer');
}

/**
 * The one shape with `type` under a junctor that kube-apiserver accepts as structural: `allOf` whose
 * first member is exactly `anyOf: [{type: integer}, {type: string}]`. The bounds and the literals go
 * in a second, type-less member: `minimum`/`maximum` bind only numbers and `pattern` only strings, so
 * each branch keeps its own constraint (an `enum` there would bind both).
 */
function intOrStringAllOf(options: JsonSchema[]): JsonSchema[] {
  const integer = toStructural(options.find((option) => option.type === 'integer'));
  const literals = options.filter((option) => typeof option.const === 'string').map((option) => String(option.const));
  const string = options.find((option) => option.type === 'string' && !('const' in option));
  const constraints: JsonSchema = {};
  for (const key of ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf'] as const) if (key in integer) constraints[key] = integer[key];
  if (literals.length > 0) constraints.pattern = `^(${literals.map((literal) => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;
  else if (string !== undefined) for (const key of ['pattern', 'minLength', 'maxLength'] as const) if (key in string) constraints[key] = string[key];
  return [{ anyOf: [{ type: 'integer' }, { type: 'string' }] }, ...(Object.keys(constraints).length > 0 ? [constraints] : [])];
}

export function toStructural(input: unknown): JsonSchema {
  const schema = input as JsonSchema;
  const options = schema.anyOf as JsonSchema[] | undefined;
  if (options !== undefined && options.length > 0 && options.every((option) => 'const' in option)) {
    const values = options.map((option) => option.const);
    const type = values.every((value) => typeof value === 'number' && Number.isInteger(value)) ? 'integer' : typeof values[0];
    // Literals of mixed types (overload.mode's strings and the false of a bare YAML 1.1 `off`): no single
    // type fits, and an untyped field must preserve unknown fields to stay structural; the enum still binds.
    const mixed = values.some((value) => typeof value !== typeof values[0]);
    const result: JsonSchema = mixed ? { 'x-kubernetes-preserve-unknown-fields': true, enum: values } : { type, enum: values };
    for (const key of ['description', 'default'] as const) if (key in schema) result[key] = schema[key];
    return result;
  }
  if (options !== undefined && isIntOrString(options)) {
    const result: JsonSchema = { 'x-kubernetes-int-or-string': true, allOf: intOrStringAllOf(options) };
    for (const key of ['description', 'default'] as const) if (key in schema) result[key] = schema[key];
    return result;
  }
  const result: JsonSchema = {};
  if ('const' in schema) result.enum = [schema.const];
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'const') continue;
    if (DROPPED_KEYWORDS.has(key)) continue;
    if (key === 'additionalProperties' && value === false) continue;
    if (key === 'patternProperties') {
      const [only] = Object.values(value as JsonSchema);
      result.additionalProperties = toStructural(only);
      continue;
    }
    if (key === 'properties') {
      result.properties = Object.fromEntries(
        Object.entries(value as JsonSchema).map(([name, child]) => [name, toStructural(child)]),
      );
      continue;
    }
    if ((key === 'exclusiveMinimum' || key === 'exclusiveMaximum') && typeof value === 'number') {
      // OpenAPI v3.0 (and so Kubernetes) takes these as booleans that qualify minimum/maximum.
      result[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = value;
      result[key] = true;
      continue;
    }
    if (key === 'items') {
      result.items = toStructural(value);
      continue;
    }
    result[key] = value;
  }
  if (Array.isArray(result.required)) {
    const properties = (result.properties ?? {}) as Record<string, JsonSchema>;
    const required = (result.required as string[]).filter((name) => !('default' in (properties[name] ?? {})));
    if (required.length > 0) result.required = required;
    else delete result.required;
  }
  return result;
}

export function generateCrd(): JsonSchema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME, labels: { 'app.kubernetes.io/name': 'badgateway', 'app.kubernetes.io/component': 'crd' } },
    spec: {
      group: API_GROUP,
      names: {
        kind: POLICY_KIND,
        listKind: POLICY_LIST_KIND,
        plural: POLICY_PLURAL,
        singular: POLICY_SINGULAR,
        shortNames: [POLICY_SHORT_NAME],
        categories: ['badgateway'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Targets', type: 'string', description: 'the targets\' names: the first three, and how many more', jsonPath: '.status.targetSummary' },
            { name: 'Configured', type: 'string', description: 'targets running the sidecar with this policy\'s configuration, of all targets', jsonPath: '.status.configured' },
            { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
            { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
            { name: 'Degraded', type: 'string', priority: 1, jsonPath: '.status.conditions[?(@.type=="Degraded")].status' },
            { name: 'ConfigMap', type: 'string', priority: 1, jsonPath: '.status.configMap' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'BadGatewayPolicy sets timeouts, circuit breaking and error pages for the badgateway sidecars of its targets.',
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: toStructural(PolicySpecSchema),
                status: toStructural(PolicyStatusSchema),
              },
            },
          },
        },
      ],
    },
  };
}

import { describe, expect, it } from '@jest/globals';
import { generateCrd } from '../../api/crd.js';
import { validate, type FieldProblem } from '../support/apiserver/validation.js';

type Schema = { [key: string]: unknown; properties?: Record<string, Schema>; items?: Schema };

function walk(schema: Schema, visit: (node: Schema, path: string) => void, path = ''): void {
  visit(schema, path);
  for (const [name, child] of Object.entries(schema.properties ?? {})) walk(child, visit, `${path}.${name}`);
  if (schema.items) walk(schema.items, visit, `${path}[]`);
  if (typeof schema.additionalProperties === 'object') walk(schema.additionalProperties as Schema, visit, `${path}{}`);
}

describe('generateCrd', () => {
  const crd = generateCrd() as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } };
  const root = crd.spec.versions[0]!.schema.openAPIV3Schema;

  it('is a structural schema: every node typed, no keywords the API server forbids', () => {
    walk(root, (node, path) => {
      if (node['x-kubernetes-int-or-string'] === true) return; // checked below
      if (path === '.spec.overload.mode') return; // untyped on purpose, checked below
      expect({ path, type: node.type }).toEqual({ path, type: expect.any(String) });
      for (const forbidden of ['anyOf', 'const', 'patternProperties', 'uniqueItems', '$id']) {
        expect({ path, has: forbidden in node }).toEqual({ path, has: false });
      }
      if (node.properties) expect({ path, ap: node.additionalProperties }).toEqual({ path, ap: undefined });
    });
  });

  it('renders literal unions as enums and keeps defaults', () => {
    const spec = root.properties!.spec!;
    expect(spec.properties!.openStatus).toMatchObject({ type: 'integer', enum: [502, 503], default: 502 });
    expect(spec.properties!.circuitBreaker!.properties!.mode).toMatchObject({ type: 'string', enum: ['enforce', 'shadow'] });
    expect(spec.properties!.targetRef!.properties!.kind).toMatchObject({ type: 'string', enum: ['Deployment'] });
    expect(spec.properties!.timeouts).toMatchObject({ default: {} });
  });

  it('renders a union of a literal and an integer as int-or-string, in the allOf shape kube-apiserver accepts as structural', () => {
    // kube-apiserver refuses `type` under anyOf unless anyOf is exactly [{type: integer}, {type: string}]
    // (or that as allOf's first member): test/api/crd-real-apiserver.test.ts sends the CRD to it.
    const limit = root.properties!.spec!.properties!.overload!.properties!.limit!;
    expect(limit).toEqual({
      'x-kubernetes-int-or-string': true,
      allOf: [{ anyOf: [{ type: 'integer' }, { type: 'string' }] }, { minimum: 1, maximum: 100_000, pattern: '^(adaptive)$' }],
      default: 'adaptive',
      description: expect.any(String),
    });
  });

  it("renders overload.mode untyped, so the API server takes a bare YAML 1.1 `off` (false), and enumerates what it takes", () => {
    const mode = root.properties!.spec!.properties!.overload!.properties!.mode!;
    expect(mode).toEqual({
      'x-kubernetes-preserve-unknown-fields': true,
      enum: ['off', 'shadow', 'enforce', false],
      default: 'off',
      description: expect.any(String),
    });
    // As the API server's structural validation reads it.
    const problems = (value: unknown) => {
      const found: FieldProblem[] = [];
      validate(mode, value, 'spec.overload.mode', found);
      return found.map((problem) => problem.message);
    };
    for (const value of ['off', 'enforce', false]) expect(problems(value)).toEqual([]);
    expect(problems('on')).toEqual([expect.stringContaining('Unsupported value: "on"')]);
    expect(problems(true)).toEqual([expect.stringContaining('Unsupported value: true')]);
  });

  it('does not require fields that have defaults', () => {
    walk(root, (node, path) => {
      for (const name of (node.required as string[] | undefined) ?? []) {
        expect({ path, name, hasDefault: 'default' in (node.properties?.[name] ?? {}) }).toEqual({ path, name, hasDefault: false });
      }
    });
  });
});

import { describe, expect, it } from '@jest/globals';
import { CelError, evaluateCel } from '../support/apiserver/match-conditions.js';

const chartExpression = "has(object.metadata.annotations) && ('badgateway.io/inject' in object.metadata.annotations || 'badgateway.io/injected' in object.metadata.annotations)";
const deployment = (annotations?: Record<string, string>) => ({ object: { metadata: { name: 'web', ...(annotations === undefined ? {} : { annotations }) } }, oldObject: null, request: {} });

describe('the CEL subset for webhook matchConditions', () => {
  it("evaluates the chart's opt-in condition", () => {
    expect(evaluateCel(chartExpression, deployment())).toBe(false);
    expect(evaluateCel(chartExpression, deployment({ other: 'x' }))).toBe(false);
    expect(evaluateCel(chartExpression, deployment({ 'badgateway.io/inject': 'true' }))).toBe(true);
    expect(evaluateCel(chartExpression, deployment({ 'badgateway.io/injected': '{}' }))).toBe(true);
  });

  it('compares, negates, indexes and lets the deciding side absorb an error, as CEL does', () => {
    const variables = { object: { metadata: { name: 'web', labels: { tier: 'front' } }, list: ['a', 'b'] }, request: { operation: 'CREATE' } };
    expect(evaluateCel("object.metadata['labels'].tier == 'front' && request.operation != \"UPDATE\"", variables)).toBe(true);
    expect(evaluateCel("!('c' in object.list)", variables)).toBe(true);
    expect(evaluateCel("object.missing.field == 'x' || true", variables)).toBe(true);
    expect(evaluateCel("false && object.missing.field == 'x'", variables)).toBe(false);
    expect(() => evaluateCel("object.missing.field == 'x' && true", variables)).toThrow('no such key: missing');
  });

  it('refuses what it does not implement instead of guessing', () => {
    expect(() => evaluateCel("object.metadata.name.startsWith('w')", deployment())).toThrow(CelError);
    expect(() => evaluateCel('object.metadata.name + 1', deployment())).toThrow(CelError);
    expect(() => evaluateCel('unknownVariable', deployment())).toThrow("undeclared reference to 'unknownVariable'");
    expect(() => evaluateCel("object.metadata.name", deployment())).toThrow('expected bool');
  });
});

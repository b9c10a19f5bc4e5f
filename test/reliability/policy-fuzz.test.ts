/**
 * Fuzzing the one schema: random JSON and near-valid mutated policies thrown at the validators.
 * Every input is either accepted or rejected with problems that each start with a field path;
 * nothing throws, inputs are never mutated, and accepted values re-validate to themselves.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SidecarConfigSchema } from '../../api/schema.js';
import { validatePolicySpec, validateSidecarConfig, type Validation } from '../../api/validate.js';

const RUNS = Number(process.env.BADGATEWAY_FUZZ_RUNS ?? 400);
const ACCEPTED_SHARE_MIN = 0.05;

/** Mostly valid, sometimes not: the generator must reach both the accept and the reject path. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<U>) =>
  fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: invalid, weight: 1 });
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 2 });

const duration = mostly(
  fc.constantFrom('1s', '250ms', '2m', '100ms', '1h', '30s'),
  fc.oneof(fc.constantFrom('banana', '-1s', '', '0s', '1', 's', '1.5s', '1 s', '99999999999999999999s'), fc.jsonValue()),
);
const integer = (min: number, max: number) => mostly(fc.integer({ min, max }), fc.oneof(fc.integer(), fc.double(), fc.constantFrom('50', null, true)));
const status = mostly(fc.constantFrom(502, 503, 504, 500, 404), fc.oneof(fc.integer({ min: -1, max: 1000 }), fc.string()));

/** Policies shaped like real ones, with every field sometimes valid and sometimes not. */
const nearValidPolicy = fc.record(
  {
    targetRef: maybe(mostly(fc.record({ kind: maybe(fc.constantFrom('Deployment')), name: fc.constantFrom('web', 'shop-api') }), fc.jsonValue())),
    timeouts: fc.record({ connect: maybe(duration), response: maybe(duration), idle: maybe(duration) }, { requiredKeys: [] }),
    circuitBreaker: fc.record(
      {
        errorThresholdPercentage: maybe(integer(1, 100)),
        volumeThreshold: maybe(integer(1, 1000)),
        rollingWindow: maybe(duration),
        resetTimeout: maybe(mostly(fc.constantFrom('1h', '2h'), duration)),
        failureStatusCodes: maybe(fc.uniqueArray(status, { maxLength: 4 })),
        mode: maybe(mostly(fc.constantFrom('enforce', 'shadow'), fc.oneof(fc.constant('ENFORCE'), fc.jsonValue()))),
      },
      { requiredKeys: [] },
    ),
    retry: mostly(fc.record({ attempts: maybe(integer(0, 5)) }, { requiredKeys: [] }), fc.jsonValue()),
    errorPages: fc.array(
      fc.record(
        {
          status,
          contentType: maybe(mostly(fc.constantFrom('text/html', 'application/json', 'text/plain'), fc.oneof(fc.constant(''), fc.jsonValue()))),
          body: mostly(fc.oneof(fc.string(), fc.constant('<h1>{{requestId}}</h1>')), fc.jsonValue()),
        },
        { requiredKeys: ['status'] },
      ),
      { maxLength: 2 },
    ),
    openStatus: maybe(mostly(fc.constantFrom(502, 503), status)),
    timeoutStatus: maybe(mostly(fc.constantFrom(504, 502), status)),
    retryAfter: maybe(duration),
    overload: maybe(mostly(fc.record(
      {
        mode: maybe(mostly(fc.constantFrom('off', 'shadow', 'enforce'), fc.oneof(fc.constant(false), fc.jsonValue()))),
        limit: maybe(mostly(fc.oneof(fc.constant('adaptive'), fc.integer({ min: 1, max: 500 })), fc.oneof(fc.constantFrom(0, 'auto', '20', 1.5), fc.jsonValue()))),
        queue: maybe(fc.record({ size: maybe(integer(0, 1000)), timeout: maybe(duration) }, { requiredKeys: [] })),
        adaptive: maybe(fc.record({ minLimit: maybe(integer(1, 50)), maxLimit: maybe(integer(1, 5000)), smoothing: maybe(mostly(fc.double({ min: 0.01, max: 1, noNaN: true }), fc.oneof(fc.constant(0), fc.double()))), minRttInterval: maybe(duration) }, { requiredKeys: [] })),
        priorityPaths: maybe(fc.array(mostly(fc.constantFrom('/healthz', '/internal/'), fc.oneof(fc.constant('healthz'), fc.jsonValue())), { maxLength: 3 })),
      },
      { requiredKeys: [] },
    ), fc.jsonValue())),
  },
  { requiredKeys: [] },
);

/** Replaces one nested value of a generated policy with arbitrary JSON (or deletes it). */
const mutatedPolicy = fc
  .tuple(nearValidPolicy, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.oneof(fc.jsonValue(), fc.constant(undefined)), fc.string())
  .map(([policy, steps, replacement, extraKey]) => {
    const copy = structuredClone(policy) as Record<string, unknown>;
    let node: Record<string, unknown> = copy;
    for (const step of steps) {
      const keys = Object.keys(node);
      if (keys.length === 0) break;
      const key = keys[step % keys.length] ?? '';
      const child = node[key];
      if (child === null || typeof child !== 'object' || step % 3 === 0) {
        if (replacement === undefined) delete node[key];
        else node[key] = replacement;
        return copy;
      }
      node = child as Record<string, unknown>;
    }
    // An array's own keys ("length") are not fields: extend it instead.
    if (Array.isArray(node)) (node as unknown[]).push(replacement ?? null);
    else node[extraKey] = replacement ?? null;
    return copy;
  });

const anything = fc.oneof(fc.jsonValue(), fc.anything(), nearValidPolicy, mutatedPolicy);

type Validator = (input: unknown) => Validation<unknown>;

/** A problem starts with the root path, or (for the root-less sidecar config) with a schema field or a top-level key of the input. */
function startsWithFieldPath(problem: string, root: string, input: unknown): boolean {
  if (problem.startsWith('(root): ')) return true;
  if (root !== '') return [`${root}: `, `${root}.`, `${root}[`].some((prefix) => problem.startsWith(prefix));
  const inputKeys = input !== null && typeof input === 'object' ? Object.keys(input) : [];
  const keys = [...inputKeys, ...Object.keys(SidecarConfigSchema.properties)];
  // A numeric key renders like an index (`[0]: unknown field`), which still names the field.
  return keys.some((key) => [`${key}: `, `${key}.`, `${key}[`, `[${key}]`].some((prefix) => problem.startsWith(prefix)));
}

function checkProperty(validator: Validator, root: string) {
  return (input: unknown) => {
    const before = typeof input === 'object' && input !== null ? JSON.stringify(input) : undefined;
    let result: Validation<unknown> | undefined;
    expect(() => { result = validator(input); }).not.toThrow();
    if (before !== undefined) expect(JSON.stringify(input)).toBe(before);
    if (result === undefined) throw new Error('validator returned nothing');
    if (result.ok) {
      expect(Object.isFrozen(result.value)).toBe(true);
      const again = validator(JSON.parse(JSON.stringify(result.value)));
      expect(again.ok).toBe(true);
      // Compared in JSON form: a symbol-keyed property of a non-JSON input survives validation
      // (unreachable from a config file or the API server, which only carry JSON).
      if (again.ok) expect(again.value).toEqual(JSON.parse(JSON.stringify(result.value)));
    } else {
      expect(result.problems.length).toBeGreaterThan(0);
      for (const problem of result.problems) {
        if (!startsWithFieldPath(problem, root, input)) throw new Error(`problem without a field path: ${JSON.stringify(problem)} for input ${JSON.stringify(input)?.slice(0, 300)}`);
        expect(problem.length).toBeLessThan(2_000);
      }
    }
  };
}

describe('validatePolicySpec under fuzzing', () => {
  it('accepts or rejects every random JSON value with field paths, never throws', () => {
    fc.assert(fc.property(anything, checkProperty((input) => validatePolicySpec(input), 'spec')), { numRuns: RUNS });
  });

  it('both accepts and rejects near-valid policies (the generator really reaches the accept path)', () => {
    const samples = fc.sample(fc.record({ timeouts: fc.record({ connect: fc.constantFrom('1s', '250ms') }), errorPages: fc.constant([]) }), 50);
    expect(samples.filter((sample) => validatePolicySpec(sample).ok)).toHaveLength(50);
    const generated = fc.sample(nearValidPolicy, 400);
    const accepted = generated.filter((sample) => validatePolicySpec(sample).ok);
    expect(accepted.length / generated.length).toBeGreaterThan(ACCEPTED_SHARE_MIN);
    expect(accepted.length).toBeLessThan(generated.length);
  });

  it('rejects a policy whose field was replaced by junk with a problem naming that field', () => {
    const result = validatePolicySpec({ circuitBreaker: { volumeThreshold: { nested: [1, 2] } } });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems[0]).toMatch(/^spec\.circuitBreaker\.volumeThreshold: /);
  });
});

describe('validateSidecarConfig under fuzzing', () => {
  it('accepts or rejects every random JSON value with field paths, never throws', () => {
    fc.assert(fc.property(anything, checkProperty((input) => validateSidecarConfig(input), '')), { numRuns: RUNS });
  });

  it('a deeply nested or huge input is rejected without throwing', () => {
    let deep: unknown = 'x';
    for (let depth = 0; depth < 5_000; depth += 1) deep = { timeouts: deep };
    expect(validateSidecarConfig(deep).ok).toBe(false);
    const huge = { errorPages: Array.from({ length: 10_000 }, () => ({ status: 502, body: 'x' })) };
    const result = validateSidecarConfig(huge);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.join('\n')).toMatch(/^errorPages: has more than 50 items/m);
  });
});

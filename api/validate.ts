/**
 * Validation at the edge: defaults applied to a copy, every problem reported with its path
 * (`spec.timeouts.connect: "banana" is not a duration ...`), the result frozen. Never throws.
 */
import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType, type ValueError } from '@sinclair/typebox/value';
import { ADDRESS_RANGE_EXAMPLE, ADDRESS_RANGE_PATTERN, parseAddressRange } from './address-range.js';
import { DURATION_PATTERN, parseDuration } from './duration.js';
import {
  MAX_ERROR_PAGE_BYTES,
  PolicySpecSchema,
  SidecarConfigSchema,
  type PolicySpec,
  type SidecarConfig,
} from './schema.js';

export type Validation<T> =
  | { ok: true; value: Readonly<T>; problems: [] }
  | { ok: false; problems: string[] };

/** `/spec/errorPages/0/status` under root `spec` → `spec.errorPages[0].status`. */
export function toFieldPath(root: string, pointer: string): string {
  let path = root;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^[0-9]+$/.test(segment)) path += `[${segment}]`;
    else path += path === '' ? segment : `.${segment}`;
  }
  return path === '' ? '(root)' : path;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- only what JSON cannot write (functions, symbols) reaches String()
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** One branch of a union, for "is not X or Y" messages. */
function describeOption(option: { const?: unknown; type?: unknown; minimum?: unknown; maximum?: unknown }): string {
  if ('const' in option) return show(option.const);
  if (option.type === 'integer') {
    return typeof option.minimum !== 'number' || typeof option.maximum !== 'number' ? 'an integer' : `an integer from ${option.minimum} to ${option.maximum}`;
  }
  return `a ${String(option.type)}`;
}

function describe(error: ValueError): string {
  const schema = error.schema as Record<string, unknown>;
  switch (error.type) {
    case ValueErrorType.StringPattern:
      if (schema.pattern === DURATION_PATTERN) return `${show(error.value)} is not a duration (e.g. 250ms, 1s, 2m)`;
      if (schema.pattern === ADDRESS_RANGE_PATTERN) return `${show(error.value)} is not ${ADDRESS_RANGE_EXAMPLE}`;
      return `${show(error.value)} does not match ${String(schema.pattern)}`;
    case ValueErrorType.Union: {
      const options = (schema.anyOf as { const?: unknown }[] | undefined) ?? [];
      if (options.length > 0 && options.every((option) => 'const' in option)) {
        // false only stands in for a bare YAML 1.1 `off`: not a value to offer.
        const offered = options.filter((option) => option.const !== false);
        return `${show(error.value)} is not one of ${offered.map((option) => show(option.const)).join(', ')}`;
      }
      if (options.length > 0) return `${show(error.value)} is not ${options.map(describeOption).join(' or ')}`;
      return `${show(error.value)} is not valid here`;
    }
    case ValueErrorType.ObjectAdditionalProperties:
      return 'unknown field';
    case ValueErrorType.ObjectRequiredProperty:
      return 'is required';
    case ValueErrorType.Integer:
      return `${show(error.value)} is not an integer`;
    case ValueErrorType.NumberExclusiveMinimum:
      return `${show(error.value)} must be above ${String(schema.exclusiveMinimum)}`;
    case ValueErrorType.Number:
      return `${show(error.value)} is not a number`;
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return `${show(error.value)} is below the minimum ${String(schema.minimum)}`;
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return `${show(error.value)} is above the maximum ${String(schema.maximum)}`;
    case ValueErrorType.String:
      return `${show(error.value)} is not a string`;
    case ValueErrorType.StringMinLength:
      return `must not be empty`;
    case ValueErrorType.StringMaxLength:
      return `is longer than ${String(schema.maxLength)} characters`;
    case ValueErrorType.Object:
      return `${show(error.value)} is not an object`;
    case ValueErrorType.Array:
      return `${show(error.value)} is not a list`;
    case ValueErrorType.ArrayMaxItems:
      return `has more than ${String(schema.maxItems)} items`;
    case ValueErrorType.ArrayUniqueItems:
      return 'has duplicate items';
    default:
      return `${error.message} (got ${show(error.value)})`;
  }
}

function schemaProblems(schema: TSchema, value: unknown, root: string): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  for (const error of Value.Errors(schema, value)) {
    // A failed union also reports each branch; the first line for a path is the useful one.
    const path = toFieldPath(root, error.path);
    if (seen.has(path)) continue;
    seen.add(path);
    problems.push(`${path}: ${describe(error)}`);
  }
  return problems;
}

function withDefaults(schema: TSchema, input: unknown): unknown {
  return readBareOff(Value.Default(schema, Value.Clone(input === undefined || input === null ? {} : input)));
}

/** YAML 1.1 readers (kubectl, Helm) turn a bare `mode: off` into false; the schema admits it, this names it. */
function readBareOff(value: unknown): unknown {
  const overload = (value as { overload?: { mode?: unknown } } | null)?.overload;
  if (overload !== null && typeof overload === 'object' && overload.mode === false) overload.mode = 'off';
  return value;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

type Behaviour = Pick<SidecarConfig, 'timeouts' | 'circuitBreaker' | 'overload' | 'trustedProxies'> & {
  errorPages: readonly { status: number; contentType: string; body?: string }[];
};

/** Rules a JSON Schema cannot say: relations between fields and resolved sizes. */
export function semanticProblems(config: Behaviour, root: string): string[] {
  const at = (field: string) => (root === '' ? field : `${root}.${field}`);
  const problems: string[] = [];
  const response = parseDuration(config.timeouts.response);
  const reset = parseDuration(config.circuitBreaker.resetTimeout);
  if (reset < response) {
    problems.push(`${at('circuitBreaker.resetTimeout')}: ${config.circuitBreaker.resetTimeout} is shorter than ${at('timeouts.response')} (${config.timeouts.response}); a half-open trial could outlive the open period`);
  }
  if (parseDuration(config.timeouts.connect) === 0) problems.push(`${at('timeouts.connect')}: must be longer than 0`);
  if (parseDuration(config.timeouts.response) === 0) problems.push(`${at('timeouts.response')}: must be longer than 0`);
  if (parseDuration(config.timeouts.requestBodyIdle) === 0) problems.push(`${at('timeouts.requestBodyIdle')}: must be longer than 0`);
  if (parseDuration(config.timeouts.responseBodyIdle) === 0) problems.push(`${at('timeouts.responseBodyIdle')}: must be longer than 0`);
  if (parseDuration(config.circuitBreaker.rollingWindow) < 100) problems.push(`${at('circuitBreaker.rollingWindow')}: must be at least 100ms`);
  problems.push(...overloadProblems(config.overload, at));
  config.trustedProxies.forEach((range, index) => {
    if (parseAddressRange(range) === undefined) problems.push(`${at(`trustedProxies[${index}]`)}: ${show(range)} is not ${ADDRESS_RANGE_EXAMPLE}`);
  });
  const statuses = new Set<string>();
  config.errorPages.forEach((page, index) => {
    const key = `${page.status} ${page.contentType}`;
    if (statuses.has(key)) problems.push(`${at(`errorPages[${index}]`)}: a page for ${page.status} with ${page.contentType} is already defined`);
    statuses.add(key);
    if (page.body !== undefined && Buffer.byteLength(page.body) > MAX_ERROR_PAGE_BYTES) {
      problems.push(`${at(`errorPages[${index}].body`)}: is larger than ${MAX_ERROR_PAGE_BYTES} bytes`);
    }
  });
  return problems;
}

function overloadProblems(overload: SidecarConfig['overload'], at: (field: string) => string): string[] {
  const problems: string[] = [];
  const { minLimit, maxLimit, minRttInterval } = overload.adaptive;
  if (minLimit > maxLimit) problems.push(`${at('overload.adaptive.minLimit')}: ${minLimit} is above overload.adaptive.maxLimit (${maxLimit})`);
  if (parseDuration(minRttInterval) < 1000) problems.push(`${at('overload.adaptive.minRttInterval')}: must be at least 1s`);
  if (overload.queue.size > 0 && parseDuration(overload.queue.timeout) === 0) {
    problems.push(`${at('overload.queue.timeout')}: must be longer than 0 when overload.queue.size is above 0 (set size: 0 to shed at once)`);
  }
  const { target, interval, timeout } = overload.queue;
  if (parseDuration(target) === 0) problems.push(`${at('overload.queue.target')}: must be longer than 0`);
  else if (overload.queue.size > 0 && parseDuration(timeout) > 0 && parseDuration(target) > parseDuration(timeout)) problems.push(`${at('overload.queue.target')}: ${target} is longer than overload.queue.timeout (${timeout})`);
  if (parseDuration(interval) === 0) problems.push(`${at('overload.queue.interval')}: must be longer than 0`);
  return problems;
}

function validate<T>(schema: TSchema, input: unknown, root: string, extra: (value: T) => string[]): Validation<T> {
  if (input !== undefined && input !== null && (typeof input !== 'object' || Array.isArray(input))) {
    return { ok: false, problems: [`${root || '(root)'}: ${show(input)} is not an object`] };
  }
  try {
    const value = withDefaults(schema, input);
    const problems = schemaProblems(schema, value, root);
    if (problems.length === 0) problems.push(...extra(value as T));
    if (problems.length > 0) return { ok: false, problems };
    return { ok: true, value: deepFreeze(value as T), problems: [] };
  } catch (error) {
    return { ok: false, problems: [`${root || '(root)'}: ${(error as Error).message}`] };
  }
}

/** Validates a BadGatewayPolicy `spec` as users write it. */
export function validatePolicySpec(input: unknown, root = 'spec'): Validation<PolicySpec> {
  return validate<PolicySpec>(PolicySpecSchema, input, root, (spec) => {
    const problems = semanticProblems(spec, root);
    spec.errorPages.forEach((page, index) => {
      const both = page.body !== undefined && page.configMapRef !== undefined;
      const neither = page.body === undefined && page.configMapRef === undefined;
      if (both || neither) problems.push(`${root}.errorPages[${index}]: needs exactly one of body or configMapRef`);
    });
    if (spec.targetRef !== undefined && spec.selector !== undefined) {
      problems.push(`${root}: targetRef and selector are mutually exclusive`);
    }
    return problems;
  });
}

/** Validates the rendered sidecar configuration (policy.json). */
export function validateSidecarConfig(input: unknown, root = ''): Validation<SidecarConfig> {
  return validate<SidecarConfig>(SidecarConfigSchema, input, root, (config) => semanticProblems(config, root));
}

/** The configuration a sidecar runs with when no policy applies. */
export function defaultSidecarConfig(): Readonly<SidecarConfig> {
  const result = validateSidecarConfig({});
  if (!result.ok) throw new Error(`built-in defaults are invalid: ${result.problems.join('; ')}`);
  return result.value;
}

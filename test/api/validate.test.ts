import { describe, expect, it } from '@jest/globals';
import { parse as parseYaml } from 'yaml';
import { validatePolicySpec, validateSidecarConfig, defaultSidecarConfig } from '../../api/validate.js';

describe('validatePolicySpec', () => {
  it('accepts an empty spec and fills every default', () => {
    const result = validatePolicySpec({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toEqual({
      timeouts: { connect: '1s', response: '15s', idle: '4s', requestBodyIdle: '60s', responseBodyIdle: '60s' },
      circuitBreaker: {
        errorThresholdPercentage: 50,
        volumeThreshold: 10,
        rollingWindow: '10s',
        resetTimeout: '15s',
        failureStatusCodes: [502, 503, 504],
        failureGrpcCodes: [14],
        mode: 'enforce',
      },
      retry: { attempts: 1 },
      openStatus: 502,
      timeoutStatus: 504,
      overload: {
        mode: 'off',
        limit: 'adaptive',
        queue: { size: 100, timeout: '250ms', target: '5ms', interval: '100ms', order: 'adaptive-lifo' },
        adaptive: { minLimit: 3, maxLimit: 1000, smoothing: 0.2, minRttInterval: '60s' },
        priorityPaths: ['/healthz', '/readyz', '/livez'],
      },
      trustedProxies: [],
      errorPages: [],
    });
    expect(Object.isFrozen(result.value.timeouts)).toBe(true);
  });

  it('keeps zero values instead of replacing them with defaults', () => {
    const result = validatePolicySpec({ retry: { attempts: 0 } });
    expect(result.ok && result.value.retry.attempts).toBe(0);
  });

  it('does not mutate its input', () => {
    const input = { timeouts: { connect: '2s' } };
    validatePolicySpec(input);
    expect(input).toEqual({ timeouts: { connect: '2s' } });
  });

  it('names every bad field with its path', () => {
    const result = validatePolicySpec({
      timeouts: { connect: 'banana' },
      openStatus: 500,
      bogus: true,
      circuitBreaker: { mode: 'maybe', volumeThreshold: 1.5 },
      errorPages: [{ status: 700, body: 'x' }],
    });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(expect.arrayContaining([
      'spec.timeouts.connect: "banana" is not a duration (e.g. 250ms, 1s, 2m)',
      'spec.openStatus: 500 is not one of 502, 503',
      'spec.bogus: unknown field',
      'spec.circuitBreaker.mode: "maybe" is not one of "enforce", "shadow"',
      'spec.circuitBreaker.volumeThreshold: 1.5 is not an integer',
      'spec.errorPages[0].status: 700 is above the maximum 599',
    ]));
  });

  it('names a bad gRPC failure code with its path', () => {
    const result = validatePolicySpec({ circuitBreaker: { failureGrpcCodes: [14, 17] } });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(['spec.circuitBreaker.failureGrpcCodes[1]: 17 is above the maximum 16']);
    expect(validatePolicySpec({ circuitBreaker: { failureGrpcCodes: [4, 14] } }).ok).toBe(true);
  });

  it('requires exactly one of body and configMapRef on an error page', () => {
    const neither = validatePolicySpec({ errorPages: [{ status: 502 }] });
    expect(neither.problems).toEqual(['spec.errorPages[0]: needs exactly one of body or configMapRef']);
    const both = validatePolicySpec({ errorPages: [{ status: 502, body: 'x', configMapRef: { name: 'a', key: 'b' } }] });
    expect(both.ok).toBe(false);
  });

  it('rejects a reset timeout shorter than the response timeout', () => {
    const result = validatePolicySpec({ timeouts: { response: '30s' }, circuitBreaker: { resetTimeout: '5s' } });
    expect(result.problems[0]).toMatch(/^spec\.circuitBreaker\.resetTimeout: 5s is shorter than spec\.timeouts\.response/);
  });

  it('rejects body idle timeouts of zero and names the field', () => {
    const result = validatePolicySpec({ timeouts: { requestBodyIdle: '0s', responseBodyIdle: '0ms' } });
    expect(result.problems).toEqual([
      'spec.timeouts.requestBodyIdle: must be longer than 0',
      'spec.timeouts.responseBodyIdle: must be longer than 0',
    ]);
    const junk = validatePolicySpec({ timeouts: { responseBodyIdle: 'soon' } });
    expect(junk.problems).toEqual(['spec.timeouts.responseBodyIdle: "soon" is not a duration (e.g. 250ms, 1s, 2m)']);
  });

  it('rejects targetRef together with selector', () => {
    const result = validatePolicySpec({ targetRef: { name: 'web' }, selector: { matchLabels: { app: 'web' } } });
    expect(result.problems).toEqual(['spec: targetRef and selector are mutually exclusive']);
  });

  it('rejects non-objects without throwing', () => {
    for (const input of ['x', 42, [1], true]) {
      const result = validatePolicySpec(input);
      expect(result.ok).toBe(false);
      expect(result.problems[0]).toMatch(/^spec: .* is not an object$/);
    }
  });
});

describe('validatePolicySpec: overload', () => {
  it('accepts adaptive or a fixed limit', () => {
    for (const limit of ['adaptive', 1, 250]) {
      const result = validatePolicySpec({ overload: { mode: 'enforce', limit } });
      expect({ limit, ok: result.ok }).toEqual({ limit, ok: true });
    }
  });

  it('names each bad overload field', () => {
    const problems = (input: unknown) => {
      const result = validatePolicySpec(input);
      return result.ok ? [] : result.problems;
    };
    expect(problems({ overload: { mode: 'on' } })).toEqual(['spec.overload.mode: "on" is not one of "off", "shadow", "enforce"']);
    expect(problems({ overload: { limit: 'auto' } })).toEqual(['spec.overload.limit: "auto" is not "adaptive" or an integer from 1 to 100000']);
    expect(problems({ overload: { limit: 0 } })).toEqual(['spec.overload.limit: 0 is not "adaptive" or an integer from 1 to 100000']);
    expect(problems({ overload: { queue: { size: -1 } } })).toEqual(['spec.overload.queue.size: -1 is below the minimum 0']);
    expect(problems({ overload: { queue: { timeout: 'soon' } } })).toEqual(['spec.overload.queue.timeout: "soon" is not a duration (e.g. 250ms, 1s, 2m)']);
    expect(problems({ overload: { adaptive: { smoothing: 0 } } })).toEqual(['spec.overload.adaptive.smoothing: 0 must be above 0']);
    expect(problems({ overload: { priorityPaths: ['healthz'] } })).toEqual(['spec.overload.priorityPaths[0]: "healthz" does not match ^/']);
    expect(problems({ overload: { burst: 3 } })).toEqual(['spec.overload.burst: unknown field']);
  });

  it('checks the relations between overload fields', () => {
    const result = validatePolicySpec({ overload: { adaptive: { minLimit: 50, maxLimit: 10, minRttInterval: '500ms' }, queue: { size: 5, timeout: '0' } } });
    expect(result.ok ? [] : result.problems).toEqual([
      'spec.overload.adaptive.minLimit: 50 is above overload.adaptive.maxLimit (10)',
      'spec.overload.adaptive.minRttInterval: must be at least 1s',
      'spec.overload.queue.timeout: must be longer than 0 when overload.queue.size is above 0 (set size: 0 to shed at once)',
    ]);
    expect(validatePolicySpec({ overload: { queue: { size: 0, timeout: '0' } } }).ok).toBe(true);
  });

  it('checks the controlled-delay fields of the queue', () => {
    const problems = (queue: object) => {
      const result = validatePolicySpec({ overload: { queue } });
      return result.ok ? [] : result.problems;
    };
    expect(problems({ target: '300ms' })).toEqual(['spec.overload.queue.target: 300ms is longer than overload.queue.timeout (250ms)']);
    expect(problems({ target: '0' })).toEqual(['spec.overload.queue.target: must be longer than 0']);
    expect(problems({ interval: '0s' })).toEqual(['spec.overload.queue.interval: must be longer than 0']);
    expect(problems({ interval: 'often' })).toEqual(['spec.overload.queue.interval: "often" is not a duration (e.g. 250ms, 1s, 2m)']);
    expect(problems({ order: 'lifo' })).toEqual(['spec.overload.queue.order: "lifo" is not one of "adaptive-lifo", "fifo"']);
    expect(problems({ target: '250ms', interval: '1s', order: 'fifo' })).toEqual([]);
  });

  it("reads a bare YAML 1.1 `mode: off` (kubectl's and Helm's false) as off", () => {
    // What sigs.k8s.io/yaml and Helm make of a policy written without quotes.
    const spec = parseYaml('overload:\n  mode: off\n', { version: '1.1' }) as { overload: { mode: unknown } };
    expect(spec.overload.mode).toBe(false);
    const result = validatePolicySpec(spec);
    expect(result.ok && result.value.overload.mode).toBe('off');
    expect(validatePolicySpec({ overload: { mode: true } }).ok).toBe(false);
    const config = validateSidecarConfig(parseYaml('overload: { mode: off, limit: 5 }', { version: '1.1' }));
    expect(config.ok && config.value.overload.mode).toBe('off');
  });
});

describe('trustedProxies', () => {
  const problems = (trustedProxies: unknown) => {
    const result = validatePolicySpec({ trustedProxies });
    return result.ok ? [] : result.problems;
  };

  it('accepts IPv4 and IPv6 addresses and CIDR ranges', () => {
    expect(problems(['10.0.0.0/8', '192.0.2.10', 'fd00::/8', '::1', '2001:db8::1/128', '0.0.0.0/0'])).toEqual([]);
  });

  it.each([
    ['10.0.0.0/33', 'spec.trustedProxies[0]: "10.0.0.0/33" is not an IP address or CIDR range (e.g. 10.0.0.0/8, 192.0.2.10, fd00::/8)'],
    ['fd00::/129', 'spec.trustedProxies[0]: "fd00::/129" is not an IP address or CIDR range (e.g. 10.0.0.0/8, 192.0.2.10, fd00::/8)'],
    ['300.1.1.1', 'spec.trustedProxies[0]: "300.1.1.1" is not an IP address or CIDR range (e.g. 10.0.0.0/8, 192.0.2.10, fd00::/8)'],
    ['ingress.example', 'spec.trustedProxies[0]: "ingress.example" is not an IP address or CIDR range (e.g. 10.0.0.0/8, 192.0.2.10, fd00::/8)'],
    ['10.0.0.0/', 'spec.trustedProxies[0]: "10.0.0.0/" is not an IP address or CIDR range (e.g. 10.0.0.0/8, 192.0.2.10, fd00::/8)'],
  ])('names a bad entry: %s', (entry, problem) => {
    expect(problems([entry])).toEqual([problem]);
  });

  it('refuses duplicates and a value that is not a list', () => {
    expect(problems(['10.0.0.1', '10.0.0.1'])).toEqual(['spec.trustedProxies: has duplicate items']);
    expect(problems('10.0.0.0/8')).toEqual(['spec.trustedProxies: "10.0.0.0/8" is not a list']);
  });
});

describe('validateSidecarConfig', () => {
  it('uses bare field paths and refuses configMapRef pages', () => {
    const result = validateSidecarConfig({ errorPages: [{ status: 502, configMapRef: { name: 'a', key: 'b' } }] });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual(expect.arrayContaining(['errorPages[0].configMapRef: unknown field']));
  });

  it('has valid built-in defaults', () => {
    expect(defaultSidecarConfig().openStatus).toBe(502);
  });
});

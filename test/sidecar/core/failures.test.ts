import { describe, expect, it } from '@jest/globals';
import { afterResponseHead, BadGatewayError, FAILURES, REASONS, socketFailure, statusFor, type FailureKind } from '../../../sidecar/core/failures.js';
import { sidecarConfig } from '../../support/sidecar-harness.js';

const kinds = Object.keys(FAILURES) as FailureKind[];
const errno = (code: string): Error => Object.assign(new Error(code), { code });

describe('the failure table', () => {
  it('has one row per kind with every column filled, and lists each reason once', () => {
    for (const kind of kinds) expect(FAILURES[kind]).toEqual(expect.objectContaining({ reason: expect.any(String), proxyError: expect.any(String), grpcStatus: expect.any(Number) }));
    expect(new Set(REASONS).size).toBe(REASONS.length);
    expect([...REASONS].sort()).toEqual(['body-timeout', 'body-truncated', 'circuit-open', 'client-refused', 'client-timeout', 'connect-failed', 'invalid-response', 'overloaded', 'reset', 'timeout']);
  });

  it('gives gRPC 14 to unavailability, 4 to timeouts and 13 to an invalid response (DESIGN.md)', () => {
    for (const kind of ['connect-refused', 'connect-timeout', 'dns-error', 'unreachable', 'reset', 'circuit-open', 'overloaded'] as const) expect(FAILURES[kind].grpcStatus).toBe(14);
    expect(FAILURES['response-timeout'].grpcStatus).toBe(4);
    expect(FAILURES['invalid-response'].grpcStatus).toBe(13);
  });

  it('never counts the client\'s faults, an open circuit or a shed request against the app', () => {
    const blamed = kinds.filter((kind) => FAILURES[kind].countsAgainstApp);
    expect(blamed.sort()).toEqual(['body-timeout', 'body-truncated', 'connect-refused', 'connect-timeout', 'dns-error', 'invalid-response', 'reset', 'response-timeout', 'unreachable']);
  });

  it('retries only a reset (the keep-alive race)', () => {
    expect(kinds.filter((kind) => FAILURES[kind].retriable)).toEqual(['reset']);
  });

  it('takes the status from the policy where the row says so', () => {
    const config = sidecarConfig({ timeoutStatus: 502, openStatus: 503 });
    expect(statusFor('response-timeout', config)).toBe(502);
    expect(statusFor('circuit-open', config)).toBe(503);
    expect(statusFor('overloaded', config)).toBe(503);
    expect(statusFor('connect-refused', config)).toBe(502);
    expect(statusFor('client-refused', config, 431)).toBe(431);
    expect(statusFor('response-timeout', sidecarConfig({}))).toBe(504);
  });

  it('maps socket error codes to kinds, anything else to a reset', () => {
    expect(socketFailure(errno('ECONNREFUSED')).kind).toBe('connect-refused');
    expect(socketFailure(errno('ETIMEDOUT')).kind).toBe('connect-timeout');
    expect(socketFailure(errno('ENOTFOUND')).kind).toBe('dns-error');
    expect(socketFailure(errno('EHOSTUNREACH')).kind).toBe('unreachable');
    expect(socketFailure(errno('ECONNRESET')).kind).toBe('reset');
    expect(socketFailure(errno('EPIPE')).kind).toBe('reset');
    expect(socketFailure(new Error('no code')).kind).toBe('reset');
    const error = socketFailure(errno('ECONNREFUSED'));
    expect(error).toBeInstanceOf(BadGatewayError);
    expect([error.reason, error.proxyError]).toEqual(['connect-failed', 'connection_refused']);
  });

  it('turns a connection failure after the response head into a truncated body', () => {
    expect(afterResponseHead('reset')).toBe('body-truncated');
    expect(afterResponseHead('connect-refused')).toBe('body-truncated');
    expect(afterResponseHead('body-timeout')).toBe('body-timeout');
    expect(afterResponseHead('invalid-response')).toBe('invalid-response');
  });
});

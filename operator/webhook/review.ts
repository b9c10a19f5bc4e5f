/**
 * AdmissionReview (admission.k8s.io/v1) in, AdmissionReview out. Pure: the server decides about
 * transport and errors. Never denies: anything that is not an injectable Deployment is allowed
 * unchanged.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { injectDeployment, type InjectContext } from '../inject/inject.js';

export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  operation?: string;
  namespace?: string;
  object?: unknown;
  dryRun?: boolean;
}

export interface AdmissionReviewResponse {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: {
    uid: string;
    allowed: true;
    patchType?: 'JSONPatch';
    patch?: string;
    warnings?: string[];
  };
}

export class MalformedReview extends Error {
  override readonly name = 'MalformedReview';
}

/** Checks the envelope; the reason names the field, for the 400 answer. */
export function parseReview(body: unknown): AdmissionRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new MalformedReview('body is not a JSON object');
  const review = body as Record<string, unknown>;
  if (review.kind !== 'AdmissionReview') throw new MalformedReview(`kind: expected "AdmissionReview", got ${JSON.stringify(review.kind)}`);
  if (review.apiVersion !== 'admission.k8s.io/v1') throw new MalformedReview(`apiVersion: expected "admission.k8s.io/v1", got ${JSON.stringify(review.apiVersion)}`);
  const request = review.request as Record<string, unknown> | undefined;
  if (request === null || typeof request !== 'object') throw new MalformedReview('request: missing');
  if (typeof request.uid !== 'string' || request.uid === '') throw new MalformedReview('request.uid: missing');
  return request as unknown as AdmissionRequest;
}

export function allow(uid: string, warnings?: string[]): AdmissionReviewResponse {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true, ...(warnings === undefined ? {} : { warnings }) } };
}

function isDeployment(request: AdmissionRequest): boolean {
  const kind = request.kind;
  return kind?.group === 'apps' && kind.kind === 'Deployment';
}

/** The review's answer; `context` is resolved by the caller (policy lookup, cluster version). */
export function reviewDeployment(request: AdmissionRequest, context: InjectContext): { review: AdmissionReviewResponse; reasons: string[] } {
  if (!isDeployment(request) || (request.operation !== 'CREATE' && request.operation !== 'UPDATE')) {
    return { review: allow(request.uid), reasons: ['not a Deployment CREATE or UPDATE'] };
  }
  const object = request.object;
  if (object === null || typeof object !== 'object') return { review: allow(request.uid), reasons: ['request.object missing'] };
  const deployment = object as V1Deployment;
  if (deployment.metadata !== undefined && deployment.metadata.namespace === undefined && request.namespace !== undefined) {
    deployment.metadata.namespace = request.namespace;
  }
  const result = injectDeployment(deployment, context);
  // kubectl prints these as `Warning: …` to whoever applied the Deployment.
  const warnings = result.warnings.length === 0 ? undefined : result.warnings.map((warning) => `badgateway: ${warning}`);
  if (result.patch.length === 0) return { review: allow(request.uid, warnings), reasons: result.reasons };
  return {
    review: {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid: request.uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(result.patch)).toString('base64'),
        ...(warnings === undefined ? {} : { warnings }),
      },
    },
    reasons: result.reasons,
  };
}

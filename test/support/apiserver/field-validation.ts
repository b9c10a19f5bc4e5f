/* eslint-disable @typescript-eslint/no-explicit-any -- arbitrary Kubernetes JSON is walked by path here */
/**
 * The `fieldValidation` query parameter for custom resources (kubectl sends `Strict` by default):
 * unknown fields are refused with 400 BadRequest "strict decoding error: unknown field ..." as
 * kube-apiserver does, reported in `Warning` headers under `Warn`, and silently pruned otherwise.
 * Checked on create/update bodies, on merge patches and on applied configurations (whose keys are the fields they set);
 * built-ins have no schema here, so they are not checked.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse } from 'yaml';
import { APPLY_PATCH } from './apply.js';
import type { ResourceType } from './resources.js';
import { badRequest } from './status.js';

type Schema = Record<string, any>;

/** Field paths in `value` that `schema` does not declare (`metadata` is left to the server). */
export function unknownFields(schema: Schema | undefined, value: unknown, path = ''): string[] {
  if (schema === undefined || schema['x-kubernetes-preserve-unknown-fields'] === true || value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return schema.items === undefined ? [] : value.flatMap((item, index) => unknownFields(schema.items, item, `${path}[${index}]`));
  const found: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === '' ? key : `${path}.${key}`;
    if (path === '' && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
    if (schema.properties !== undefined) {
      if (!(key in schema.properties)) found.push(childPath);
      else found.push(...unknownFields(schema.properties[key], child, childPath));
    } else if (typeof schema.additionalProperties === 'object') {
      found.push(...unknownFields(schema.additionalProperties, child, childPath));
    }
  }
  return found;
}

/** Throws (Strict) or adds Warning headers (Warn) for unknown fields in a custom resource write. */
export function checkFieldValidation(req: IncomingMessage, res: ServerResponse, url: URL, body: string, type: ResourceType): void {
  const mode = url.searchParams.get('fieldValidation') ?? 'Ignore';
  const method = req.method ?? 'GET';
  if (type.schema === undefined || (mode !== 'Strict' && mode !== 'Warn')) return;
  const contentType = String(req.headers['content-type'] ?? '').split(';')[0];
  if (!(method === 'POST' || method === 'PUT' || (method === 'PATCH' && (contentType === 'application/merge-patch+json' || contentType === APPLY_PATCH)))) return;
  let parsed: unknown;
  try {
    parsed = contentType === APPLY_PATCH ? parse(body) : JSON.parse(body);
  } catch {
    return; // the verb answers the malformed body
  }
  const unknown = unknownFields(type.schema, parsed).map((field) => `unknown field "${field}"`);
  if (unknown.length === 0) return;
  if (mode === 'Strict') {
    throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown.join(', ')}`);
  }
  res.setHeader('Warning', unknown.map((text) => `299 - ${JSON.stringify(text)}`));
}

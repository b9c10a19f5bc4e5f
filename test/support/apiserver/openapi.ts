/**
 * The OpenAPI v3 documents kubectl reads before create/apply/replace: `/openapi/v3` lists one
 * document per group-version, and each document's PATCH operations declare the `fieldValidation`
 * query parameter with `x-kubernetes-group-version-kind`, which is what kubectl checks to choose
 * server-side field validation (then it sends `fieldValidation=Strict` and needs no schemas).
 * Operations declare no request body, so `kubectl apply` builds its patches from its built-in
 * types (strategic merge) or, for custom resources, as JSON merge patches. Custom resources' schemas
 * are published (from their CRDs) for `kubectl explain`. `/openapi/v2` stays 404, as kubectl only
 * falls back to it.
 */
import { createHash } from 'node:crypto';
import type { ResourceType } from './resources.js';
import { ApiError } from './status.js';

const OPENAPI_V3 = '/openapi/v3';

function documentPath(type: Pick<ResourceType, 'group' | 'version'>): string {
  return type.group === '' ? `api/${type.version}` : `apis/${type.group}/${type.version}`;
}

const queryParameter = (name: string) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });
const WRITE_PARAMETERS = [queryParameter('dryRun'), queryParameter('fieldManager'), queryParameter('fieldValidation')];
const RESPONSES = { 200: { description: 'OK' }, 401: { description: 'Unauthorized' } };

function operation(type: ResourceType, action: string, writes: boolean): Record<string, unknown> {
  return {
    operationId: `${action}${type.kind}`,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: type.group, version: type.version, kind: type.kind },
    parameters: writes ? WRITE_PARAMETERS : [],
    responses: RESPONSES,
  };
}

function groupVersionDocument(types: ResourceType[], gitVersion: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const type of types) {
    const prefix = `/${documentPath(type)}${type.namespaced ? '/namespaces/{namespace}' : ''}/${type.plural}`;
    paths[prefix] = { get: operation(type, 'list', false), post: operation(type, 'post', true) };
    paths[`${prefix}/{name}`] = { get: operation(type, 'get', false), put: operation(type, 'put', true), patch: operation(type, 'patch', true), delete: operation(type, 'delete', false) };
    if (type.statusSubresource) {
      paths[`${prefix}/{name}/status`] = { get: operation(type, 'get', false), put: operation(type, 'put', true), patch: operation(type, 'patch', true) };
    }
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: gitVersion }, paths, components: { schemas: Object.fromEntries(types.flatMap(customResourceSchema)) } };
}

/**
 * A custom resource's schema from its CRD, named and tagged as kube-apiserver publishes it
 * (`io.badgateway.v1alpha1.BadGatewayPolicy` with `x-kubernetes-group-version-kind`): what
 * `kubectl explain bgwp.spec` reads. kubectl's client-side apply still uses JSON merge patches
 * for custom resources (they are not in its scheme), so publishing this changes no patch.
 */
function customResourceSchema(type: ResourceType): Array<[string, unknown]> {
  if (type.schema === undefined) return [];
  const name = [...type.group.split('.').reverse(), type.version, type.kind].join('.');
  const properties = (type.schema.properties ?? {}) as Record<string, unknown>;
  return [[name, {
    ...type.schema,
    properties: {
      apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
      ...properties,
      metadata: { type: 'object', description: "Standard object's metadata." },
    },
    'x-kubernetes-group-version-kind': [{ group: type.group, version: type.version, kind: type.kind }],
  }]];
}

/** Answers `/openapi/v3` and `/openapi/v3/{api/v1 | apis/group/version}`; 404 for other paths. */
export function openApiV3(path: string, types: ResourceType[], gitVersion: string): unknown {
  const byDocument = new Map<string, ResourceType[]>();
  for (const type of types) (byDocument.get(documentPath(type)) ?? byDocument.set(documentPath(type), []).get(documentPath(type)))!.push(type);
  const documents = new Map([...byDocument].map(([key, members]) => [key, groupVersionDocument(members, gitVersion)]));
  if (path === OPENAPI_V3) {
    // The hash makes kubectl's disk cache refetch a document whenever its content changes (new CRDs).
    const hash = (document: unknown) => createHash('sha256').update(JSON.stringify(document)).digest('hex').slice(0, 32).toUpperCase();
    return { paths: Object.fromEntries([...documents].map(([key, document]) => [key, { serverRelativeURL: `${OPENAPI_V3}/${key}?hash=${hash(document)}` }])) };
  }
  const document = documents.get(path.slice(OPENAPI_V3.length + 1));
  if (document === undefined) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  return document;
}

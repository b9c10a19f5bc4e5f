/* eslint-disable @typescript-eslint/no-explicit-any -- arbitrary Kubernetes JSON is walked by path here */
/** HTTP routing of the test API server: discovery, the resource verbs (watches in watch.ts) and faults. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MutatingAdmission } from './admission.js';
import { Authorizer, verbOf, type UserInfo } from './authorization.js';
import { APPLY_PATCH, parseAppliedConfiguration, serverSideApply } from './apply.js';
import { groupList, resourceList } from './discovery.js';
import { OneEventStore } from './event-store.js';
import { checkFieldValidation } from './field-validation.js';
import { managerName, recordUpdate } from './managed-fields.js';
import { Namespaces, withDefaults } from './namespaces.js';
import { openApiV3 } from './openapi.js';
import { bodyText, send } from './protobuf/negotiation.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { BUILTIN_RESOURCES, groupVersion, resourcesFromCrd, type ResourceType } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiError, badRequest, invalid, notFound } from './status.js';
import { tableIfRequested } from './table.js';
import { serveWatch } from './watch.js';
import type { KubeObject, Store } from './store.js';
import { defaultAndPrune, validate, type FieldProblem } from './validation.js';

export interface Faults {
  failNext: { count: number; code: 500 | 429 };
  latencyMs: number;
  /** Requests of this method whose path matches wait for `until` before they are served. */
  holds: { method: string; path: RegExp; until: Promise<void> }[];
}

export class ApiServerCore {
  readonly store: Store = new OneEventStore();
  readonly faults: Faults = { failNext: { count: 0, code: 500 }, latencyMs: 0, holds: [] };
  private readonly watches = new Set<ServerResponse>();
  private types: ResourceType[] = [...BUILTIN_RESOURCES];
  readonly admission = new MutatingAdmission(this.store, builtinType('mutatingwebhookconfigurations'), builtinType('namespaces'));

  readonly authorizer: Authorizer;
  private readonly users = new WeakMap<IncomingMessage, UserInfo>();

  readonly namespaces: Namespaces;

  constructor(private readonly gitVersion: string, token: string, strictNamespaces = false) {
    this.namespaces = new Namespaces(this.store, builtinType('namespaces'), () => this.types, strictNamespaces);
    this.namespaces.createInitial();
    this.authorizer = new Authorizer(token, this.store, {
      roles: builtinType('roles'), clusterRoles: builtinType('clusterroles'),
      roleBindings: builtinType('rolebindings'), clusterRoleBindings: builtinType('clusterrolebindings'),
    });
  }

  /** Ends every open watch stream, as kube-apiserver does when a watch times out or it restarts. */
  dropWatches(): void {
    for (const response of this.watches) response.end();
    this.watches.clear();
  }

  private typeFor(group: string, version: string, plural: string): ResourceType | undefined {
    return this.types.find((type) => type.group === group && type.version === version && type.plural === plural);
  }

  private refreshCrds(): void {
    const crdType = this.typeFor('apiextensions.k8s.io', 'v1', 'customresourcedefinitions') as ResourceType;
    this.types = [...BUILTIN_RESOURCES, ...this.store.list(crdType).flatMap((crd) => resourcesFromCrd(crd))];
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      this.users.set(req, this.authorizer.authenticate(req.headers.authorization));
      if (this.faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.faults.latencyMs));
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      for (const hold of this.faults.holds.filter((item) => item.method === req.method && item.path.test(path))) await hold.until;
      if (this.faults.failNext.count > 0) {
        this.faults.failNext.count -= 1;
        const code = this.faults.failNext.code;
        throw new ApiError(code, code === 429 ? 'TooManyRequests' : 'InternalError', code === 429 ? 'too many requests' : 'injected failure');
      }
      const url = new URL(req.url ?? '/', 'http://apiserver');
      const body = bodyText(req, await readBody(req));
      const result = await this.route(req, res, url, body);
      if (result !== undefined) send(req, res, result.code, result.body);
    } catch (error) {
      const apiError = error instanceof ApiError ? error : new ApiError(500, 'InternalError', (error as Error).message);
      if (!res.headersSent) send(req, res, apiError.code, apiError.toStatus());
      else res.destroy();
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, body: string): Promise<{ code: number; body: unknown } | undefined> {
    const path = url.pathname.replace(/\/+$/, '');
    // Only a dry-run create is modelled (admission and validation, nothing stored: what `badgateway
    // check` probes the webhook with); others are refused rather than ignored, since ignoring would
    // persist what the client meant as a dry run (kubectl --dry-run=server, diff).
    if (url.searchParams.has('dryRun') && !(req.method === 'POST' && url.searchParams.get('dryRun') === 'All')) throw badRequest('dryRun is supported only as dryRun=All on create by the test API server');
    if (path === '/version') {
      const [, major, minor] = /^v(\d+)\.(\d+)/.exec(this.gitVersion) ?? [];
      return { code: 200, body: { major, minor, gitVersion: this.gitVersion, platform: 'linux/amd64' } };
    }
    if (path === '/api') return { code: 200, body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] } };
    if (path === '/apis') return { code: 200, body: groupList(this.types) };
    if (path === '/openapi/v3' || path.startsWith('/openapi/v3/')) return { code: 200, body: openApiV3(path, this.types, this.gitVersion) };
    const segments = path.split('/').filter((segment) => segment !== '');
    let group: string;
    let version: string;
    let rest: string[];
    if (segments[0] === 'api') [group, version, rest] = ['', segments[1] ?? '', segments.slice(2)];
    else if (segments[0] === 'apis') [group, version, rest] = [segments[1] ?? '', segments[2] ?? '', segments.slice(3)];
    else throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
    if (rest.length === 0) return { code: 200, body: resourceList(this.types, group, version) };
    let namespace: string | undefined;
    // /namespaces/{name}/status is the Namespace's own subresource, not a resource in that namespace.
    if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const [plural, name, subresource] = rest as [string, string | undefined, string | undefined];
    const type = this.typeFor(group, version, plural);
    if (type === undefined) throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
    checkFieldValidation(req, res, url, body, type);
    return tableIfRequested(req, url, type, await this.verb(req, res, url, body, type, type.namespaced ? namespace : undefined, name, subresource));
  }

  private async verb(req: IncomingMessage, res: ServerResponse, url: URL, body: string, type: ResourceType, namespace: string | undefined, name: string | undefined, subresource: string | undefined): Promise<{ code: number; body: unknown } | undefined> {
    const method = req.method ?? 'GET';
    const watching = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    // As kube-apiserver: a list or watch selecting one name by `metadata.name=` is authorized as that name (RBAC resourceNames).
    const selectedName = name ?? (method === 'GET' ? /(?:^|,)metadata\.name==?([^,]+)(?:,|$)/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1] : undefined);
    this.authorizer.authorize(this.users.get(req) as UserInfo, { verb: verbOf(method, name, watching), type, namespace, name: selectedName, subresource });
    if (method === 'GET' && name === undefined) {
      const labels = parseLabelSelector(url.searchParams.get('labelSelector'));
      const fields = parseFieldSelector(url.searchParams.get('fieldSelector'));
      const matches = (object: KubeObject) => labels(object.metadata.labels ?? {}) && fields(object as { metadata: { name?: string } });
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
        serveWatch(this.store, this.watches, res, url, type, namespace, matches);
        return undefined;
      }
      const items = this.store.list(type, namespace).filter(matches).map((item) => withKind(type, item));
      return { code: 200, body: { apiVersion: groupVersion(type), kind: type.listKind, metadata: { resourceVersion: String(this.store.currentRevision()) }, items } };
    }
    if (method === 'GET') return { code: 200, body: withKind(type, this.store.get(type, namespace, name as string)) };
    const manager = managerName(req, url);
    const part = subresource === 'status' ? 'status' : 'main';
    const contentType = String(req.headers['content-type'] ?? '').split(';')[0];
    if (method === 'PATCH' && contentType === APPLY_PATCH && name !== undefined) return this.apply(res, url, body, type, namespace, name, part);
    const input = parseJson(body);
    if (method === 'POST') {
      if (type.namespaced) this.namespaces.requireUsable(namespace);
      const mutated = await this.admission.admit({ type, operation: 'CREATE', namespace, object: withKind(type, { ...input, metadata: { ...input.metadata, ...(namespace === undefined ? {} : { namespace }) } }) });
      warn(res, mutated.warnings);
      const admitted = this.admit(type, mutated.object);
      if (url.searchParams.get('dryRun') === 'All') return { code: 201, body: withKind(type, admitted) };
      const object = recordUpdate(type, undefined, type.plural === 'namespaces' && type.group === '' ? withDefaults(admitted) : admitted, manager, 'main');
      return { code: 201, body: withKind(type, this.afterWrite(type, this.store.create(type, namespace, object))) };
    }
    if (name === undefined) throw badRequest('name required');
    if (method === 'PUT' || method === 'PATCH') {
      const current = this.store.get(type, namespace, name);
      let next: KubeObject = input;
      if (method === 'PATCH') {
        if (contentType === 'application/json-patch+json') next = jsonPatch(current, input);
        else if (contentType === 'application/merge-patch+json') next = mergePatch(current, input);
        else if (contentType === 'application/strategic-merge-patch+json' && type.schema === undefined) next = strategicMergePatch(current, input);
        else throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, ${APPLY_PATCH}${type.schema === undefined ? ', application/strategic-merge-patch+json' : ''}`);
        next.metadata = { ...next.metadata, resourceVersion: current.metadata.resourceVersion };
      }
      const object = part === 'status' ? next : this.admit(type, await this.mutateUpdate(type, namespace, name, withKind(type, next), res));
      const recorded = recordUpdate(type, withKind(type, current), withKind(type, object), manager, part);
      return { code: 200, body: withKind(type, this.afterWrite(type, this.store.update(type, namespace, name, recorded, part))) };
    }
    if (method === 'DELETE') {
      const deleted = this.store.delete(type, namespace, name);
      if (type.plural === 'namespaces' && type.group === '') this.namespaces.deleteContents(name);
      return { code: 200, body: withKind(type, this.afterWrite(type, deleted)) };
    }
    throw new ApiError(405, 'MethodNotAllowed', `method ${method} not allowed`);
  }

  /** Server-side apply: creates the object when it does not exist yet, as kube-apiserver does. */
  private async apply(res: ServerResponse, url: URL, body: string, type: ResourceType, namespace: string | undefined, name: string, part: 'main' | 'status'): Promise<{ code: number; body: unknown }> {
    const manager = url.searchParams.get('fieldManager');
    if (manager === null || manager === '') throw badRequest('PATCH of type apply requires the fieldManager query parameter');
    const config = parseAppliedConfiguration(body, type, name);
    const live = this.store.find(type, namespace, name);
    const force = url.searchParams.get('force') === 'true';
    const applied = serverSideApply({ type, live: live === undefined ? undefined : withKind(type, live), config, manager, force, part });
    if (live === undefined) {
      if (part === 'status') throw notFound(type.plural, type.group, name);
      if (type.namespaced) this.namespaces.requireUsable(namespace);
      const mutated = await this.admission.admit({ type, operation: 'CREATE', namespace, object: withKind(type, { ...applied, metadata: { ...applied.metadata, ...(namespace === undefined ? {} : { namespace }) } }) });
      warn(res, mutated.warnings);
      return { code: 201, body: withKind(type, this.afterWrite(type, this.store.create(type, namespace, this.admit(type, mutated.object)))) };
    }
    const object = part === 'status' ? applied : this.admit(type, await this.mutateUpdate(type, namespace, name, withKind(type, applied), res));
    return { code: 200, body: withKind(type, this.afterWrite(type, this.store.update(type, namespace, name, object, part))) };
  }

  /** CRD writes change what is served; a served CRD is Established, as the real server reports (Helm's --wait reads it). */
  private afterWrite(type: ResourceType, object: KubeObject): KubeObject {
    if (type.plural !== 'customresourcedefinitions') return object;
    this.refreshCrds();
    if (object.metadata.deletionTimestamp !== undefined || this.store.find(type, undefined, object.metadata.name) === undefined) return object;
    const established = crdStatus(object);
    if (JSON.stringify(established) === JSON.stringify(object.status)) return object;
    return this.store.update(type, undefined, object.metadata.name, { ...object, status: established, metadata: { ...object.metadata, resourceVersion: undefined } }, 'status');
  }

  private async mutateUpdate(type: ResourceType, namespace: string | undefined, name: string, object: KubeObject, res: ServerResponse): Promise<KubeObject> {
    const oldObject = withKind(type, this.store.get(type, namespace, name));
    const mutated = await this.admission.admit({ type, operation: 'UPDATE', namespace, object, oldObject });
    warn(res, mutated.warnings);
    return mutated.object;
  }

  /** CRD validation and defaulting (built-ins are taken as they come). */
  private admit(type: ResourceType, object: KubeObject): KubeObject {
    if (type.schema === undefined) return object;
    const result = defaultAndPrune(type.schema, structuredClone(object));
    const problems: FieldProblem[] = [];
    for (const [key, child] of Object.entries<Record<string, unknown>>((type.schema.properties ?? {}) as Record<string, Record<string, unknown>>)) {
      if (key !== 'metadata' && key !== 'apiVersion' && key !== 'kind') validate(child, result[key], key, problems);
    }
    if (problems.length > 0) throw invalid(type.kind, type.group, object.metadata?.name ?? '', problems);
    return result;
  }
}

/** Admission warnings reach the client as `Warning: 299` headers, as on the real server. */
function warn(res: ServerResponse, warnings: string[]): void {
  if (warnings.length === 0) return;
  const previous = res.getHeader('warning');
  const existing = previous === undefined ? [] : ([] as string[]).concat(previous as string | string[]);
  res.setHeader('warning', [...existing, ...warnings.map((text) => `299 - ${JSON.stringify(text)}`)]);
}

function builtinType(plural: string): ResourceType {
  return BUILTIN_RESOURCES.find((type) => type.plural === plural && type.group !== 'events.k8s.io') as ResourceType;
}

function crdStatus(crd: KubeObject): Record<string, unknown> {
  const condition = (type: string, reason: string, message: string) => ({ type, status: 'True', reason, message, lastTransitionTime: crd.metadata.creationTimestamp });
  return {
    ...crd.status,
    acceptedNames: crd.spec?.names ?? {},
    storedVersions: (crd.spec?.versions ?? []).filter((version: { storage?: boolean }) => version.storage === true).map((version: { name: string }) => version.name),
    conditions: [condition('NamesAccepted', 'NoConflicts', 'no conflicts found'), condition('Established', 'InitialNamesAccepted', 'the initial names have been accepted')],
  };
}

function withKind(type: ResourceType, object: KubeObject): KubeObject {
  return { ...object, apiVersion: groupVersion(type), kind: type.kind };
}

function parseJson(body: string): any {
  try {
    return JSON.parse(body === '' ? '{}' : body);
  } catch {
    throw badRequest('the request body is not valid JSON');
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/* eslint-disable @typescript-eslint/no-explicit-any -- arbitrary Kubernetes JSON is walked by path here */
/** HTTP routing of the test API server: discovery, the resource verbs, watches and faults. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MutatingAdmission } from './admission.js';
import { Authorizer, verbOf, type UserInfo } from './authorization.js';
import { checkFieldValidation } from './field-validation.js';
import { openApiV3 } from './openapi.js';
import { jsonPatch, mergePatch, strategicMergePatch } from './patch.js';
import { BUILTIN_RESOURCES, groupVersion, resourcesFromCrd, type ResourceType } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiError, badRequest, invalid, notFound } from './status.js';
import { tableIfRequested, watchEventPresenter } from './table.js';
import { Store, type KubeObject, type WatchEvent } from './store.js';
import { defaultAndPrune, validate, type FieldProblem } from './validation.js';

export interface Faults {
  failNext: { count: number; code: 500 | 429 };
  latencyMs: number;
}

export class ApiServerCore {
  readonly store = new Store();
  readonly faults: Faults = { failNext: { count: 0, code: 500 }, latencyMs: 0 };
  private readonly watches = new Set<ServerResponse>();
  private types: ResourceType[] = [...BUILTIN_RESOURCES];
  readonly admission = new MutatingAdmission(this.store, builtinType('mutatingwebhookconfigurations'), builtinType('namespaces'));

  readonly authorizer: Authorizer;
  private readonly users = new WeakMap<IncomingMessage, UserInfo>();

  constructor(private readonly gitVersion: string, token: string) {
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
      if (this.faults.failNext.count > 0) {
        this.faults.failNext.count -= 1;
        const code = this.faults.failNext.code;
        throw new ApiError(code, code === 429 ? 'TooManyRequests' : 'InternalError', code === 429 ? 'too many requests' : 'injected failure');
      }
      const url = new URL(req.url ?? '/', 'http://apiserver');
      const body = await readBody(req);
      const result = await this.route(req, res, url, body);
      if (result !== undefined) send(res, result.code, result.body);
    } catch (error) {
      const apiError = error instanceof ApiError ? error : new ApiError(500, 'InternalError', (error as Error).message);
      if (!res.headersSent) send(res, apiError.code, apiError.toStatus());
      else res.destroy();
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, body: string): Promise<{ code: number; body: unknown } | undefined> {
    const path = url.pathname.replace(/\/+$/, '');
    // Protobuf (typed client-go clients, e.g. `kubectl create configmap`) is not spoken here: 415, as a server without it answers.
    if (String(req.headers['content-type'] ?? '').startsWith('application/vnd.kubernetes.protobuf')) throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`);
    // Only a dry-run create is modelled (admission and validation, nothing stored: what `badgateway
    // check` probes the webhook with); others are refused rather than ignored, since ignoring would
    // persist what the client meant as a dry run (kubectl --dry-run=server, diff).
    if (url.searchParams.has('dryRun') && !(req.method === 'POST' && url.searchParams.get('dryRun') === 'All')) throw badRequest('dryRun is supported only as dryRun=All on create by the test API server');
    if (path === '/version') {
      const [, major, minor] = /^v(\d+)\.(\d+)/.exec(this.gitVersion) ?? [];
      return { code: 200, body: { major, minor, gitVersion: this.gitVersion, platform: 'linux/amd64' } };
    }
    if (path === '/api') return { code: 200, body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] } };
    if (path === '/apis') return { code: 200, body: this.groupList() };
    if (path === '/openapi/v3' || path.startsWith('/openapi/v3/')) return { code: 200, body: openApiV3(path, this.types, this.gitVersion) };
    const segments = path.split('/').filter((segment) => segment !== '');
    let group: string;
    let version: string;
    let rest: string[];
    if (segments[0] === 'api') [group, version, rest] = ['', segments[1] ?? '', segments.slice(2)];
    else if (segments[0] === 'apis') [group, version, rest] = [segments[1] ?? '', segments[2] ?? '', segments.slice(3)];
    else throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
    if (rest.length === 0) return { code: 200, body: this.resourceList(group, version) };
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
    this.authorizer.authorize(this.users.get(req) as UserInfo, { verb: verbOf(method, name, watching), type, namespace, name, subresource });
    if (method === 'GET' && name === undefined) {
      const labels = parseLabelSelector(url.searchParams.get('labelSelector'));
      const fields = parseFieldSelector(url.searchParams.get('fieldSelector'));
      const matches = (object: KubeObject) => labels(object.metadata.labels ?? {}) && fields(object as { metadata: { name?: string } });
      if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
        this.watch(res, url, type, namespace, matches);
        return undefined;
      }
      const items = this.store.list(type, namespace).filter(matches).map((item) => withKind(type, item));
      return { code: 200, body: { apiVersion: groupVersion(type), kind: type.listKind, metadata: { resourceVersion: String(this.store.currentRevision()) }, items } };
    }
    if (method === 'GET') return { code: 200, body: withKind(type, this.store.get(type, namespace, name as string)) };
    const input = parseJson(body);
    if (method === 'POST') {
      const mutated = await this.admission.admit({ type, operation: 'CREATE', namespace, object: withKind(type, { ...input, metadata: { ...input.metadata, ...(namespace === undefined ? {} : { namespace }) } }) });
      warn(res, mutated.warnings);
      const object = this.admit(type, mutated.object);
      if (url.searchParams.get('dryRun') === 'All') return { code: 201, body: withKind(type, object) };
      const created = this.store.create(type, namespace, object);
      if (type.plural === 'customresourcedefinitions') this.refreshCrds();
      return { code: 201, body: withKind(type, created) };
    }
    if (name === undefined) throw badRequest('name required');
    if (method === 'PUT') {
      const object = subresource === 'status' ? input : this.admit(type, await this.mutateUpdate(type, namespace, name, withKind(type, input), res));
      return { code: 200, body: withKind(type, this.store.update(type, namespace, name, object, subresource === 'status' ? 'status' : 'main')) };
    }
    if (method === 'PATCH') {
      const current = this.store.get(type, namespace, name);
      const contentType = String(req.headers['content-type'] ?? '').split(';')[0];
      let patched: KubeObject;
      if (contentType === 'application/json-patch+json') patched = jsonPatch(current, input);
      else if (contentType === 'application/merge-patch+json') patched = mergePatch(current, input);
      else if (contentType === 'application/strategic-merge-patch+json' && type.schema === undefined) patched = strategicMergePatch(current, input);
      else throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json${type.schema === undefined ? ', application/strategic-merge-patch+json' : ''}`);
      patched.metadata = { ...patched.metadata, resourceVersion: current.metadata.resourceVersion };
      const object = subresource === 'status' ? patched : this.admit(type, await this.mutateUpdate(type, namespace, name, withKind(type, patched), res));
      return { code: 200, body: withKind(type, this.store.update(type, namespace, name, object, subresource === 'status' ? 'status' : 'main')) };
    }
    if (method === 'DELETE') {
      const deleted = this.store.delete(type, namespace, name);
      if (type.plural === 'customresourcedefinitions') this.refreshCrds();
      return { code: 200, body: withKind(type, deleted) };
    }
    throw new ApiError(405, 'MethodNotAllowed', `method ${method} not allowed`);
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

  private watch(res: ServerResponse, url: URL, type: ResourceType, namespace: string | undefined, matches: (object: KubeObject) => boolean): void {
    const from = url.searchParams.get('resourceVersion');
    const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true';
    const write = (line: unknown) => res.write(`${JSON.stringify(line)}\n`);
    const present = watchEventPresenter(res.req, url, type); // `kubectl get -w` asks for Table rows
    // The head goes first: replayed history is written synchronously by store.watch, and an
    // expired resourceVersion is an ERROR event in a 200 stream, as kube-apiserver does it.
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // clients wait for the head before they consider the watch established
    let stop: () => void;
    try {
      stop = this.store.watch(from === null || from === '' || from === '0' ? undefined : Number(from), (event) =>
        event.type_ === type && (namespace === undefined || event.object.metadata.namespace === namespace),
      (event) => {
        const seenAs = selectedEventType(event, matches);
        if (seenAs !== undefined) write({ type: seenAs, object: present(withKind(type, event.object)) });
      });
    } catch (error) {
      write({ type: 'ERROR', object: (error as ApiError).toStatus() });
      res.end();
      return;
    }
    // Watch-list (client-go's WatchListClient, e.g. kubectl wait): the current objects, then a bookmark marking their end.
    const initialEvents = url.searchParams.get('sendInitialEvents') === 'true';
    if (initialEvents) for (const object of this.store.list(type, namespace).filter(matches)) write({ type: 'ADDED', object: present(withKind(type, object)) });
    const initialEventsEnd = initialEvents ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {};
    if (bookmarks) write({ type: 'BOOKMARK', object: { kind: type.kind, apiVersion: groupVersion(type), metadata: { resourceVersion: String(this.store.currentRevision()), ...initialEventsEnd } } });
    this.watches.add(res);
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? 0);
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    timer?.unref();
    res.on('close', () => {
      stop();
      if (timer !== undefined) clearTimeout(timer);
      this.watches.delete(res);
    });
  }

  private groupList(): unknown {
    const groups = new Map<string, Set<string>>();
    for (const type of this.types) if (type.group !== '') (groups.get(type.group) ?? groups.set(type.group, new Set()).get(type.group))!.add(type.version);
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, versions]) => ({
        name,
        versions: [...versions].map((version) => ({ groupVersion: `${name}/${version}`, version })),
        preferredVersion: { groupVersion: `${name}/${[...versions][0]}`, version: [...versions][0] },
      })),
    };
  }

  private resourceList(group: string, version: string): unknown {
    const types = this.types.filter((type) => type.group === group && type.version === version);
    if (types.length === 0) throw notFound('groups', group, version);
    const verbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group === '' ? version : `${group}/${version}`,
      resources: types.flatMap((type) => [
        { name: type.plural, singularName: type.singular, namespaced: type.namespaced, kind: type.kind, verbs, shortNames: type.shortNames, categories: type.categories ?? [] },
        ...(type.statusSubresource ? [{ name: `${type.plural}/status`, singularName: '', namespaced: type.namespaced, kind: type.kind, verbs: ['get', 'patch', 'update'] }] : []),
      ]),
    };
  }
}

/**
 * What a selector-filtered watch reports, as kube-apiserver does: an object modified into the
 * selection is ADDED, one modified out of it is DELETED.
 */
function selectedEventType(event: WatchEvent, matches: (object: KubeObject) => boolean): WatchEvent['type'] | undefined {
  const now = matches(event.object);
  if (event.type !== 'MODIFIED') return now ? event.type : undefined;
  const before = event.previous === undefined ? now : matches(event.previous);
  if (now) return before ? 'MODIFIED' : 'ADDED';
  return before ? 'DELETED' : undefined;
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

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

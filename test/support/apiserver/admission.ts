/* eslint-disable @typescript-eslint/no-explicit-any -- AdmissionReviews carry arbitrary Kubernetes JSON */
/**
 * Mutating admission as kube-apiserver does it: every MutatingWebhookConfiguration's webhooks, in
 * configuration-name order, are matched by rules, namespaceSelector, objectSelector and
 * matchConditions; a matching webhook gets an admission.k8s.io/v1 AdmissionReview over HTTPS,
 * its certificate checked against `caBundle`, within `timeoutSeconds`; its JSONPatch is applied.
 * A webhook that cannot be called is skipped under `failurePolicy: Ignore` and fails the request
 * (500 InternalError) under `Fail`, the default; a denial is a 400 naming the webhook.
 * Not modelled: reinvocation, dry-run, validating webhooks, DELETE/CONNECT operations.
 */
import { randomUUID } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { evaluateCel } from './match-conditions.js';
import { jsonPatch } from './patch.js';
import type { ResourceType } from './resources.js';
import { labelSelectorMatches, type LabelSelectorObject } from './selectors.js';
import { ApiError } from './status.js';
import type { KubeObject, Store } from './store.js';

export interface AdmissionAttributes {
  type: ResourceType;
  operation: 'CREATE' | 'UPDATE';
  namespace: string | undefined;
  object: KubeObject;
  oldObject?: KubeObject;
}

export interface AdmissionResult {
  object: KubeObject;
  /** Warnings returned by webhooks, sent to the client as `Warning` headers. */
  warnings: string[];
}

/** Where a webhook `service` reference is reachable from this process (there is no cluster DNS). */
export type ServiceAddress = { host: string; port: number };

interface Rule { operations?: string[]; apiGroups?: string[]; apiVersions?: string[]; resources?: string[]; scope?: string }
interface Webhook {
  name: string;
  clientConfig: { url?: string; caBundle?: string; service?: { namespace: string; name: string; path?: string; port?: number } };
  rules?: Rule[];
  failurePolicy?: 'Fail' | 'Ignore';
  timeoutSeconds?: number;
  namespaceSelector?: LabelSelectorObject;
  objectSelector?: LabelSelectorObject;
  matchConditions?: Array<{ name: string; expression: string }>;
}

const MAX_RESPONSE_BYTES = 3 * 1024 * 1024;

const matchesList = (list: string[] | undefined, value: string) => (list ?? []).some((item) => item === '*' || item === value);

function ruleMatches(rule: Rule, attributes: AdmissionAttributes): boolean {
  const { type } = attributes;
  const scope = rule.scope ?? '*';
  return matchesList(rule.operations, attributes.operation)
    && matchesList(rule.apiGroups, type.group)
    && matchesList(rule.apiVersions, type.version)
    && (rule.resources ?? []).some((resource) => resource === '*' || resource === type.plural)
    && (scope === '*' || (scope === 'Namespaced') === type.namespaced);
}

export class MutatingAdmission {
  private readonly services = new Map<string, ServiceAddress>();

  constructor(
    private readonly store: Store,
    private readonly webhookConfigurations: ResourceType,
    private readonly namespaces: ResourceType,
  ) {}

  /** Makes `service: {namespace, name}` references resolve to a local address. */
  routeService(namespace: string, name: string, address: ServiceAddress): void {
    this.services.set(`${namespace}/${name}`, address);
  }

  async admit(attributes: AdmissionAttributes): Promise<AdmissionResult> {
    let object = attributes.object;
    const warnings: string[] = [];
    const configurations = this.store.list(this.webhookConfigurations)
      .sort((left, right) => String(left.metadata.name).localeCompare(String(right.metadata.name)));
    for (const configuration of configurations) {
      for (const webhook of (configuration.webhooks ?? []) as Webhook[]) {
        const current = { ...attributes, object };
        const failClosed = (webhook.failurePolicy ?? 'Fail') === 'Fail';
        let matched: boolean;
        try {
          matched = this.matches(webhook, current);
        } catch (error) {
          if (failClosed) throw new ApiError(500, 'InternalError', `Internal error occurred: failed calling webhook "${webhook.name}": ${(error as Error).message}`);
          continue;
        }
        if (!matched) continue;
        let response: any;
        try {
          response = await this.call(webhook, current);
        } catch (error) {
          if (failClosed) throw new ApiError(500, 'InternalError', `Internal error occurred: failed calling webhook "${webhook.name}": ${(error as Error).message}`);
          continue;
        }
        warnings.push(...((response.warnings ?? []) as string[]));
        if (response.allowed !== true) {
          const status = response.status ?? {};
          const code = Number(status.code ?? 0) >= 400 ? Number(status.code) : 400;
          throw new ApiError(code, String(status.reason ?? 'BadRequest'), `admission webhook "${webhook.name}" denied the request${status.message === undefined ? ' without explanation' : `: ${String(status.message)}`}`);
        }
        if (response.patch !== undefined) {
          if (response.patchType !== 'JSONPatch') throw new ApiError(500, 'InternalError', `Internal error occurred: webhook "${webhook.name}" returned patchType ${String(response.patchType)}; only JSONPatch is supported`);
          try {
            object = jsonPatch(object, JSON.parse(Buffer.from(String(response.patch), 'base64').toString('utf8')));
          } catch (error) {
            throw new ApiError(500, 'InternalError', `Internal error occurred: webhook "${webhook.name}" returned a patch that does not apply: ${(error as Error).message}`);
          }
        }
      }
    }
    return { object, warnings };
  }

  private matches(webhook: Webhook, attributes: AdmissionAttributes): boolean {
    if (!(webhook.rules ?? []).some((rule) => ruleMatches(rule, attributes))) return false;
    if (attributes.type.namespaced && !labelSelectorMatches(webhook.namespaceSelector, this.namespaceLabels(attributes.namespace as string))) return false;
    if (attributes.type.plural === 'namespaces' && !labelSelectorMatches(webhook.namespaceSelector, attributes.object.metadata.labels ?? {})) return false;
    const labelsMatch = (object: KubeObject | undefined) => object !== undefined && labelSelectorMatches(webhook.objectSelector, object.metadata?.labels ?? {});
    if (!labelsMatch(attributes.object) && !labelsMatch(attributes.oldObject)) return false;
    const variables = { object: attributes.object, oldObject: attributes.oldObject ?? null, request: { operation: attributes.operation, namespace: attributes.namespace ?? '' } };
    return (webhook.matchConditions ?? []).every((condition) => {
      try {
        return evaluateCel(condition.expression, variables);
      } catch (error) {
        throw new Error(`matchCondition "${condition.name}" failed: ${(error as Error).message}`);
      }
    });
  }

  /** The namespace's labels, including the `kubernetes.io/metadata.name` label the real server sets. */
  private namespaceLabels(namespace: string): Record<string, string> {
    let labels: Record<string, string> = {};
    try {
      labels = this.store.get(this.namespaces, undefined, namespace).metadata.labels ?? {};
    } catch {
      // namespaces need not exist here; the real server would have refused the request
    }
    return { ...labels, 'kubernetes.io/metadata.name': namespace };
  }

  private async call(webhook: Webhook, attributes: AdmissionAttributes): Promise<any> {
    const timeoutSeconds = webhook.timeoutSeconds ?? 10;
    const { url, address, serverName } = this.endpoint(webhook);
    const { type } = attributes;
    const uid = randomUUID();
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid,
        kind: { group: type.group, version: type.version, kind: type.kind },
        resource: { group: type.group, version: type.version, resource: type.plural },
        requestKind: { group: type.group, version: type.version, kind: type.kind },
        requestResource: { group: type.group, version: type.version, resource: type.plural },
        name: attributes.object.metadata?.name ?? '',
        ...(attributes.namespace === undefined ? {} : { namespace: attributes.namespace }),
        operation: attributes.operation,
        userInfo: { username: 'test-admin', groups: ['system:masters', 'system:authenticated'] },
        object: attributes.object,
        oldObject: attributes.oldObject ?? null,
        dryRun: false,
        options: { apiVersion: 'meta.k8s.io/v1', kind: attributes.operation === 'CREATE' ? 'CreateOptions' : 'UpdateOptions' },
      },
    };
    const target = new URL(url);
    target.searchParams.set('timeout', `${timeoutSeconds}s`);
    const body = JSON.stringify(review);
    const text = await new Promise<string>((resolve, reject) => {
      const failure = (message: string) => new Error(`failed to call webhook: Post "${target.href}": ${message}`);
      const request = httpsRequest({
        host: address.host,
        port: address.port,
        path: `${target.pathname}${target.search}`,
        method: 'POST',
        ...(isIP(serverName) === 0 ? { servername: serverName } : {}), // SNI takes host names only
        ...(webhook.clientConfig.caBundle === undefined ? {} : { ca: Buffer.from(webhook.clientConfig.caBundle, 'base64').toString('utf8') }),
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(body), host: `${serverName}:${address.port}` },
        agent: false,
      }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) request.destroy(failure('response too large'));
          else chunks.push(chunk);
        });
        response.on('end', () => {
          const payload = Buffer.concat(chunks).toString('utf8');
          if (response.statusCode !== 200) reject(failure(`received status ${String(response.statusCode)}: ${payload.slice(0, 200)}`));
          else resolve(payload);
        });
        response.on('error', (error) => reject(failure(error.message)));
      });
      const timer = setTimeout(() => request.destroy(new Error('context deadline exceeded')), timeoutSeconds * 1000);
      timer.unref();
      request.on('close', () => clearTimeout(timer));
      request.on('error', (error) => reject(error.message.startsWith('failed to call webhook') ? error : failure(error.message)));
      request.end(body);
    });
    let parsed: any;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error('received invalid webhook response: not JSON');
    }
    if (parsed?.apiVersion !== 'admission.k8s.io/v1' || parsed?.kind !== 'AdmissionReview') throw new Error('received invalid webhook response: expected an admission.k8s.io/v1 AdmissionReview');
    if (parsed.response?.uid !== uid) throw new Error(`expected response.uid="${uid}", got "${String(parsed.response?.uid)}"`);
    return parsed.response;
  }

  private endpoint(webhook: Webhook): { url: string; address: ServiceAddress; serverName: string } {
    const { url, service } = webhook.clientConfig;
    if (url !== undefined) {
      const parsed = new URL(url);
      if (parsed.protocol !== 'https:') throw new Error(`webhook URL must use https: ${url}`);
      return { url, address: { host: parsed.hostname, port: Number(parsed.port === '' ? 443 : parsed.port) }, serverName: parsed.hostname };
    }
    if (service === undefined) throw new Error('webhook clientConfig has neither url nor service');
    const port = service.port ?? 443;
    const serverName = `${service.name}.${service.namespace}.svc`;
    const address = this.services.get(`${service.namespace}/${service.name}`);
    if (address === undefined) throw new Error(`failed to call webhook: Post "https://${serverName}:${port}${service.path ?? '/'}": service "${service.namespace}/${service.name}" has no route in the test API server (routeService)`);
    return { url: `https://${serverName}:${port}${service.path ?? '/'}`, address, serverName };
  }
}

/**
 * Manual injection over multi-document YAML, like `linkerd inject`: Deployments (also inside a
 * `kind: List`) get the sidecar, every other document is passed through as it was written. A
 * BadGatewayPolicy in the same input is honoured as the webhook would: the Deployments it governs
 * get its ConfigMap volume and `--config`; so are the Services in it (their `appProtocol`).
 */
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { ANNOTATIONS, API_GROUP_VERSION, POLICY_KIND } from '../../api/names.js';
import { yamlProblem } from '../../api/yaml-problem.js';
import { injectDeployment, type InjectContext } from './inject.js';
import { effectivePolicyName, type PolicyLike } from './policy-match.js';

export interface ManifestReport {
  output: string;
  lines: string[];
}

/** Every object of the input, Lists flattened. */
function flatten(object: Record<string, unknown>): Record<string, unknown>[] {
  return object.kind === 'List' && Array.isArray(object.items) ? object.items.flatMap((item: Record<string, unknown>) => flatten(item)) : [object];
}

const isPolicy = (object: Record<string, unknown>): boolean => object.kind === POLICY_KIND && object.apiVersion === API_GROUP_VERSION;
const isService = (object: Record<string, unknown>): boolean => object.kind === 'Service' && object.apiVersion === 'v1';

/** The objects of the input besides Deployments that injection reads. */
interface Neighbours {
  policies: readonly PolicyLike[];
  services: readonly V1Service[];
}

/**
 * The objects of a Deployment's namespace, put in it. A manifest often leaves namespaces to
 * `kubectl apply -n`, so an object or Deployment without one is taken to share the other's.
 */
function inNamespaceOf<T extends { metadata?: { namespace?: string } }>(deployment: V1Deployment, objects: readonly T[]): T[] {
  const namespace = deployment.metadata?.namespace;
  return objects
    .filter((object) => object.metadata?.namespace === undefined || namespace === undefined || object.metadata.namespace === namespace)
    .map((object) => ({ ...object, metadata: { ...object.metadata, namespace } }));
}

function injectObject(object: Record<string, unknown>, context: InjectContext, neighbours: Neighbours, lines: string[]): Record<string, unknown> {
  if (object.kind === 'List' && Array.isArray(object.items)) {
    return { ...object, items: object.items.map((item: Record<string, unknown>) => injectObject(item, context, neighbours, lines)) };
  }
  if (object.kind !== 'Deployment') return object;
  const deployment = structuredClone(object) as V1Deployment;
  // Asking for injection is what running `inject` says, unless the manifest opted out explicitly.
  const optedOut = deployment.metadata?.annotations?.[ANNOTATIONS.inject];
  if (optedOut === undefined) deployment.metadata = { ...deployment.metadata, annotations: { ...deployment.metadata?.annotations, [ANNOTATIONS.inject]: 'true' } };
  const policyName = effectivePolicyName(inNamespaceOf(deployment, neighbours.policies), deployment) ?? context.policyName;
  const services = inNamespaceOf(deployment, neighbours.services);
  const result = injectDeployment(deployment, { ...context, ...(policyName === undefined ? {} : { policyName }), services });
  const name = `deployment/${deployment.metadata?.name ?? '?'}`;
  const notes = [
    ...(policyName === undefined ? [] : [`policy ${policyName}`]),
    ...(result.appProtocol === undefined || result.appProtocol.why === 'default' ? [] : [`${result.appProtocol.protocol} to the app: ${result.appProtocol.why}`]),
  ];
  const configured = notes.length === 0 ? '' : ` (${notes.join('; ')})`;
  const optOut = optedOut === undefined || optedOut === 'true' ? [] : [`${ANNOTATIONS.inject} is ${JSON.stringify(optedOut)}`];
  lines.push(result.injectable ? `${name} injected${configured}` : `${name} skipped: ${[...optOut, ...result.reasons].join('; ')}`);
  lines.push(...result.warnings.map((warning) => `${name}: warning: ${warning}`));
  // A skipped Deployment is passed through as written, except that an opt-out removes a sidecar injected before.
  return (result.injectable || result.patch.length > 0 ? result.deployment : object) as Record<string, unknown>;
}

/** A document as written, without its own `---` (the output adds one between documents). */
function passThrough(document: { toString(): string }): string {
  return String(document).replace(/^---[ \t]*\n/, '');
}

export function injectManifests(text: string, context: InjectContext): ManifestReport {
  const lines: string[] = [];
  const parts: string[] = [];
  const documents = parseAllDocuments(text);
  for (const document of documents) {
    if (document.errors.length > 0) throw new Error(`invalid YAML: ${yamlProblem(document.errors[0]!.message)}`);
  }
  const objects = documents.map((document) => document.toJS() as unknown);
  const all = objects
    .filter((object): object is Record<string, unknown> => object !== null && typeof object === 'object' && !Array.isArray(object))
    .flatMap(flatten);
  const neighbours: Neighbours = { policies: all.filter(isPolicy), services: all.filter(isService) };
  for (const [index, document] of documents.entries()) {
    const object = objects[index];
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
      if (object !== null) parts.push(passThrough(document));
      continue;
    }
    const record = object as Record<string, unknown>;
    const injected = injectObject(record, context, neighbours, lines);
    parts.push(injected === record ? passThrough(document) : stringify(injected, { lineWidth: 0 }));
  }
  return { output: parts.map((part) => (part.endsWith('\n') ? part : `${part}\n`)).join('---\n'), lines };
}

/**
 * Manual injection over multi-document YAML, like `linkerd inject`: Deployments (also inside a
 * `kind: List`) get the sidecar, every other document is passed through as it was written.
 */
import type { V1Deployment } from '@kubernetes/client-node';
import { parseAllDocuments, stringify } from 'yaml';
import { ANNOTATIONS } from '../../api/names.js';
import { injectDeployment, type InjectContext } from './inject.js';

export interface ManifestReport {
  output: string;
  lines: string[];
}

function injectObject(object: Record<string, unknown>, context: InjectContext, lines: string[]): Record<string, unknown> {
  if (object.kind === 'List' && Array.isArray(object.items)) {
    return { ...object, items: object.items.map((item: Record<string, unknown>) => injectObject(item, context, lines)) };
  }
  if (object.kind !== 'Deployment') return object;
  const deployment = structuredClone(object) as V1Deployment;
  deployment.metadata = { ...deployment.metadata, annotations: { ...deployment.metadata?.annotations, [ANNOTATIONS.inject]: 'true' } };
  const result = injectDeployment(deployment, context);
  const name = `deployment/${deployment.metadata.name ?? '?'}`;
  lines.push(result.injectable ? `${name} injected` : `${name} skipped: ${result.reasons.join('; ')}`);
  return (result.injectable ? result.deployment : object) as Record<string, unknown>;
}

export function injectManifests(text: string, context: InjectContext): ManifestReport {
  const lines: string[] = [];
  const parts: string[] = [];
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw new Error(`invalid YAML: ${document.errors[0]!.message.split('\n')[0]}`);
    const object = document.toJS() as unknown;
    if (object === null || typeof object !== 'object' || Array.isArray(object)) {
      if (object !== null) parts.push(String(document));
      continue;
    }
    const record = object as Record<string, unknown>;
    const injected = injectObject(record, context, lines);
    parts.push(injected === record ? String(document) : stringify(injected, { lineWidth: 0 }));
  }
  return { output: parts.map((part) => (part.endsWith('\n') ? part : `${part}\n`)).join('---\n'), lines };
}

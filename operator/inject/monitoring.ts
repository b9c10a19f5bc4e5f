/**
 * What injection adds to the pod template so the fleet's sidecars can be scraped and grouped: the
 * conventional `prometheus.io/*` annotations (for Prometheus without the Prometheus Operator) and
 * labels naming the Deployment and the policy. Anything the user already set wins: an existing
 * `prometheus.io/scrape` (even "false") leaves all three annotations alone, an existing label stays.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { POD_LABELS, SCRAPE_ANNOTATIONS, SIDECAR_ADMIN_PORT } from '../../api/names.js';

/** Label values are at most 63 characters; longer names are not labelled rather than truncated into a lie. */
const MAX_LABEL_VALUE = 63;

export interface MonitoringInput {
  deploymentName: string | undefined;
  policyName: string | undefined;
  scrapeAnnotations: boolean;
}

export interface MonitoringChange {
  metadata: V1ObjectMeta;
  /** Keys added, recorded so un-injection removes exactly these. */
  annotations: string[];
  labels: string[];
  reasons: string[];
}

export function addMonitoring(template: V1ObjectMeta | undefined, input: MonitoringInput): MonitoringChange {
  const annotations = { ...template?.annotations };
  const labels = { ...template?.labels };
  const change: MonitoringChange = { metadata: {}, annotations: [], labels: [], reasons: [] };
  if (!input.scrapeAnnotations) {
    change.reasons.push('scrape annotations turned off by the operator');
  } else if (annotations[SCRAPE_ANNOTATIONS.scrape] !== undefined) {
    change.reasons.push(`the pod template's own ${SCRAPE_ANNOTATIONS.scrape}: "${annotations[SCRAPE_ANNOTATIONS.scrape]}" is kept; the sidecar's metrics are not annotated for scraping`);
  } else {
    const added = { [SCRAPE_ANNOTATIONS.scrape]: 'true', [SCRAPE_ANNOTATIONS.port]: String(SIDECAR_ADMIN_PORT), [SCRAPE_ANNOTATIONS.path]: '/metrics' };
    for (const [key, value] of Object.entries(added)) {
      annotations[key] = value;
      change.annotations.push(key);
    }
    change.reasons.push(`${SCRAPE_ANNOTATIONS.scrape} annotations point at the sidecar's admin port ${SIDECAR_ADMIN_PORT}`);
  }
  for (const [key, value] of [[POD_LABELS.deployment, input.deploymentName], [POD_LABELS.policy, input.policyName]] as const) {
    if (value === undefined || labels[key] !== undefined) continue;
    if (value.length > MAX_LABEL_VALUE) {
      change.reasons.push(`${key} not set: "${value}" is longer than ${MAX_LABEL_VALUE} characters`);
      continue;
    }
    labels[key] = value;
    change.labels.push(key);
  }
  change.metadata = {
    ...template,
    ...(Object.keys(annotations).length === 0 ? {} : { annotations }),
    ...(Object.keys(labels).length === 0 ? {} : { labels }),
  };
  return change;
}

/** Removes the keys an injection added (as its record lists them). */
export function removeMonitoring(template: V1ObjectMeta | undefined, added: { annotations?: readonly string[]; labels?: readonly string[] }): V1ObjectMeta | undefined {
  if (template === undefined) return undefined;
  const metadata = { ...template };
  for (const field of ['annotations', 'labels'] as const) {
    const keys = added[field] ?? [];
    if (keys.length === 0 || metadata[field] === undefined) continue;
    const kept = { ...metadata[field] };
    for (const key of keys) delete kept[key];
    if (Object.keys(kept).length === 0) delete metadata[field];
    else metadata[field] = kept;
  }
  return metadata;
}

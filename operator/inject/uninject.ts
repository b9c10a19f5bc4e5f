/** Un-injection: removes the sidecar and reverts exactly what the injection record says it changed. */
import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import { ANNOTATIONS, SIDECAR_CONTAINER_NAME } from '../../api/names.js';
import { removeMonitoring } from './monitoring.js';
import { CONFIG_VOLUME_NAME } from './sidecar-container.js';

export const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;

/** Stored as JSON in the Deployment annotation `badgateway.io/injected`. */
export interface InjectionRecord {
  v: 1;
  container: string;
  port: number;
  portName?: string;
  renamedTo?: string;
  probes: (typeof PROBES)[number][];
  preStop: boolean;
  native: boolean;
  /** Pod template annotations and labels injection added (operator/inject/monitoring.ts). */
  podAnnotations?: string[];
  podLabels?: string[];
}

function readRecord(deployment: V1Deployment): InjectionRecord | undefined {
  const text = deployment.metadata?.annotations?.[ANNOTATIONS.injected];
  if (text === undefined) return undefined;
  try {
    const record = JSON.parse(text) as InjectionRecord;
    return record.v === 1 ? record : undefined;
  } catch {
    return undefined;
  }
}

/** A copy of the Deployment without badgateway's injection; `removed` says whether there was one. */
export function removeInjection(input: V1Deployment): { object: V1Deployment; removed: boolean } {
  const record = readRecord(input);
  if (record === undefined) return { object: structuredClone(input), removed: false };
  const deployment = structuredClone(input);
  const pod = deployment.spec?.template?.spec;
  if (pod !== undefined) {
    pod.containers = pod.containers.filter((container) => container.name !== SIDECAR_CONTAINER_NAME);
    if (pod.initContainers !== undefined) {
      pod.initContainers = pod.initContainers.filter((container) => container.name !== SIDECAR_CONTAINER_NAME);
      if (pod.initContainers.length === 0) delete pod.initContainers;
    }
    if (pod.volumes !== undefined) {
      pod.volumes = pod.volumes.filter((volume) => volume.name !== CONFIG_VOLUME_NAME);
      if (pod.volumes.length === 0) delete pod.volumes;
    }
    const app: V1Container | undefined = pod.containers.find((container) => container.name === record.container);
    if (app !== undefined) revertApp(app, record);
  }
  const template = deployment.spec?.template;
  if (template?.metadata !== undefined) {
    const metadata = removeMonitoring(template.metadata, { annotations: record.podAnnotations, labels: record.podLabels });
    if (metadata === undefined || Object.keys(metadata).length === 0) delete template.metadata;
    else template.metadata = metadata;
  }
  const annotations = { ...deployment.metadata?.annotations };
  delete annotations[ANNOTATIONS.injected];
  deployment.metadata = { ...deployment.metadata, annotations };
  if (Object.keys(annotations).length === 0) delete deployment.metadata.annotations;
  return { object: deployment, removed: true };
}

function revertApp(app: V1Container, record: InjectionRecord): void {
  if (record.renamedTo !== undefined && record.portName !== undefined) {
    for (const port of app.ports ?? []) if (port.name === record.renamedTo) port.name = record.portName;
    for (const probe of record.probes) {
      for (const action of [app[probe]?.httpGet, app[probe]?.tcpSocket]) {
        if (action !== undefined && action.port === record.renamedTo) action.port = record.portName;
      }
    }
  }
  if (record.preStop && app.lifecycle?.preStop?.sleep !== undefined) {
    delete app.lifecycle.preStop;
    if (Object.keys(app.lifecycle).length === 0) delete app.lifecycle;
  }
}

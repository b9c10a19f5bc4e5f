/**
 * Sidecar injection as one pure function, shared by the webhook and `badgateway inject`: a
 * Deployment in, the mutated Deployment, an RFC 6902 patch and the reasons out. Injection always
 * starts from the un-injected object, so injecting twice gives the same result and a changed
 * image or setting updates the sidecar in place; what it changed is recorded in an annotation,
 * which is what un-injection restores from.
 */
import type { V1Container, V1Deployment, V1PodSpec, V1Service } from '@kubernetes/client-node';
import { isDuration, parseDuration } from '../../api/duration.js';
import { ANNOTATIONS, SIDECAR_CONTAINER_NAME, SIDECAR_PROXY_PORT } from '../../api/names.js';
import { findAppPort, renamedPortName } from './app-port.js';
import { appProtocolFor, type AppProtocolChoice } from './app-protocol.js';
import { diff, type JsonPatchOperation } from './json-patch.js';
import { addMonitoring } from './monitoring.js';
import { supportsNativeSidecars } from './kube-version.js';
import { protocolFromServices } from './service-protocol.js';
import { configVolume, DEFAULT_PROXY_PORT_NAME, sidecarContainer } from './sidecar-container.js';
import type { InjectionSettings } from './settings.js';
import { removeInjection, type InjectionRecord, PROBES } from './uninject.js';

export interface InjectContext {
  settings: InjectionSettings;
  kubeVersion: string;
  /** The policy the operator or webhook resolved; the `badgateway.io/policy` annotation wins. */
  policyName?: string;
  /** The Services of the Deployment's namespace, whose `appProtocol` says what the app speaks. */
  services?: readonly V1Service[];
}

export interface InjectionResult {
  deployment: V1Deployment;
  patch: JsonPatchOperation[];
  injectable: boolean;
  reasons: string[];
  /** For the admission response's warnings: what the user should fix, though injection went ahead. */
  warnings: string[];
  /** What the app speaks and why, when injected. */
  appProtocol?: AppProtocolChoice;
}

export function wantsInjection(deployment: V1Deployment): boolean {
  return deployment.metadata?.annotations?.[ANNOTATIONS.inject] === 'true';
}

function notInjectable(input: V1Deployment, base: V1Deployment, reasons: string[]): InjectionResult {
  return { deployment: base, patch: diff(input, base), injectable: false, reasons, warnings: [] };
}

export function injectDeployment(input: V1Deployment, context: InjectContext): InjectionResult {
  const { object: base, removed } = removeInjection(input);
  if (!wantsInjection(input)) {
    return notInjectable(input, base, [removed ? 'annotation removed: sidecar and its changes removed' : `not annotated ${ANNOTATIONS.inject}: "true"`]);
  }
  const deployment = structuredClone(base);
  const pod: V1PodSpec | undefined = deployment.spec?.template?.spec;
  if (pod === undefined || pod.containers.length === 0) return notInjectable(input, base, ['the Deployment has no pod template containers']);
  if (pod.hostNetwork === true) return notInjectable(input, base, ['hostNetwork pods share the node\'s ports: not injected']);
  const all = [...pod.containers, ...(pod.initContainers ?? [])];
  if (all.some((container) => container.name === SIDECAR_CONTAINER_NAME)) {
    return notInjectable(input, base, [`a container named ${SIDECAR_CONTAINER_NAME} already exists and was not injected by badgateway`]);
  }
  const annotations = deployment.metadata?.annotations ?? {};
  const appPort = findAppPort(pod.containers, annotations[ANNOTATIONS.port]);
  if ('problem' in appPort) return notInjectable(input, base, [appPort.problem]);
  const fromServices = protocolFromServices(context.services ?? [], {
    namespace: deployment.metadata?.namespace,
    labels: deployment.spec?.template?.metadata?.labels ?? {},
    // Once injected, Services reach the app through the sidecar's port: the app port's name, or bgw-proxy.
    ports: [{ port: appPort.port, name: appPort.name }, { port: SIDECAR_PROXY_PORT, name: appPort.name ?? DEFAULT_PROXY_PORT_NAME }],
  });
  const appProtocol = appProtocolFor(annotations[ANNOTATIONS.appProtocol], fromServices, appPort.name);
  if ('problem' in appProtocol) return notInjectable(input, base, [appProtocol.problem]);

  const reasons: string[] = [];
  const native = supportsNativeSidecars(context.kubeVersion);
  const app = pod.containers[appPort.containerIndex] as V1Container;
  const record: InjectionRecord = { v: 1, container: app.name, port: appPort.port, probes: [], preStop: false, native };

  let proxyPortName = DEFAULT_PROXY_PORT_NAME;
  if (appPort.portIndex !== undefined && appPort.name !== undefined) {
    const renamed = renamedPortName(appPort.name);
    (app.ports as { name?: string }[])[appPort.portIndex]!.name = renamed;
    record.portName = appPort.name;
    record.renamedTo = renamed;
    proxyPortName = appPort.name;
    reasons.push(`port ${appPort.name} (${appPort.port}) now belongs to the sidecar; the app's is ${renamed}`);
    for (const probe of PROBES) {
      const handler = app[probe];
      for (const action of [handler?.httpGet, handler?.tcpSocket]) {
        if (action !== undefined && action.port === appPort.name) {
          action.port = renamed;
          record.probes.push(probe);
        }
      }
    }
  }

  const drainDelay = annotations[ANNOTATIONS.drainDelay] ?? context.settings.drainDelay;
  if (app.lifecycle?.preStop === undefined && native && isDuration(drainDelay) && parseDuration(drainDelay) > 0) {
    app.lifecycle = { ...app.lifecycle, preStop: { sleep: { seconds: Math.ceil(parseDuration(drainDelay) / 1000) } } };
    record.preStop = true;
    reasons.push(`app preStop sleep ${drainDelay} added so endpoints are removed before the app stops`);
  }

  const policyName = annotations[ANNOTATIONS.policy] ?? context.policyName;
  const sidecar = sidecarContainer({
    appPort: appPort.port,
    appProtocol: appProtocol.protocol,
    proxyPortName,
    native,
    ...(policyName === undefined ? {} : { policyName }),
    ...(annotations[ANNOTATIONS.cpu] === undefined ? {} : { cpu: annotations[ANNOTATIONS.cpu] }),
    ...(annotations[ANNOTATIONS.memory] === undefined ? {} : { memory: annotations[ANNOTATIONS.memory] }),
  }, context.settings);
  if (appProtocol.protocol === 'h2c') reasons.push(`the app speaks h2c (${appProtocol.why}): HTTP/2 and gRPC to the app`);
  else if (appProtocol.why !== 'default') reasons.push(`the app speaks HTTP/1.1 (${appProtocol.why})`);
  if (native) {
    pod.initContainers = [...(pod.initContainers ?? []), sidecar];
    reasons.push('injected as a native sidecar (initContainers, restartPolicy: Always)');
  } else {
    pod.containers.push(sidecar);
    reasons.push(`injected as a regular container (Kubernetes ${context.kubeVersion} has no native sidecars)`);
  }
  if (policyName !== undefined) {
    pod.volumes = [...(pod.volumes ?? []), configVolume(policyName)];
    reasons.push(`configured by policy ${policyName}`);
  } else {
    reasons.push('no policy applies: sidecar defaults');
  }
  const template = deployment.spec?.template;
  if (template !== undefined) {
    const monitoring = addMonitoring(template.metadata, { deploymentName: deployment.metadata?.name, policyName, scrapeAnnotations: context.settings.scrapeAnnotations !== false });
    template.metadata = monitoring.metadata;
    if (monitoring.annotations.length > 0) record.podAnnotations = monitoring.annotations;
    if (monitoring.labels.length > 0) record.podLabels = monitoring.labels;
    reasons.push(...monitoring.reasons);
  }
  deployment.metadata = { ...deployment.metadata, annotations: { ...annotations, [ANNOTATIONS.injected]: JSON.stringify(record) } };
  if (removed) reasons.unshift('already injected: updated in place');
  const warnings = appProtocol.warning === undefined ? [] : [appProtocol.warning];
  return { deployment, patch: diff(input, deployment), injectable: true, reasons, warnings, appProtocol };
}

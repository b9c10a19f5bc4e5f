/**
 * Services whose traffic skips the sidecar: a `targetPort` that resolves to the port the sidecar
 * fronts — by number, or (once injected) by the app's renamed port name — instead of the sidecar's.
 */
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import { ANNOTATIONS, SIDECAR_CONTAINER_NAME, SIDECAR_PROXY_PORT } from '../../api/names.js';
import { findAppPort } from '../inject/app-port.js';
import { selectsPods, targetOf } from '../inject/service-match.js';
import { sidecarOf } from './target-state.js';

export interface BypassingService {
  name: string;
  port: number;
  message: string;
}

/** The app port the sidecar forwards to: its --upstream port once injected, else the one injection would pick. */
function frontedPort(deployment: V1Deployment): number | undefined {
  const sidecar = sidecarOf(deployment);
  if (sidecar !== undefined) {
    const args = sidecar.args ?? [];
    const upstream = args[args.indexOf('--upstream') + 1] ?? sidecar.env?.find((variable) => variable.name === 'BADGATEWAY_UPSTREAM')?.value;
    const port = upstream === undefined ? NaN : Number(URL.parse(upstream)?.port);
    if (Number.isInteger(port) && port > 0) return port;
  }
  const containers = (deployment.spec?.template?.spec?.containers ?? []).filter((container) => container.name !== SIDECAR_CONTAINER_NAME);
  const appPort = findAppPort(containers, deployment.metadata?.annotations?.[ANNOTATIONS.port]);
  return 'problem' in appPort ? undefined : appPort.port;
}

export function bypassingServices(deployment: V1Deployment, services: readonly V1Service[]): BypassingService[] {
  const fronted = frontedPort(deployment);
  if (fronted === undefined) return [];
  const labels = deployment.spec?.template?.metadata?.labels ?? {};
  const sidecar = sidecarOf(deployment);
  const appPorts = (deployment.spec?.template?.spec?.containers ?? [])
    .filter((container) => container.name !== SIDECAR_CONTAINER_NAME)
    .flatMap((container) => container.ports ?? []);
  const appPortName = appPorts.find((port) => port.containerPort === fronted)?.name;
  // Once injected, the sidecar owns the name Services should use; before, the app's port name is
  // the one injection hands over to the sidecar.
  const sidecarPortName = sidecar?.ports?.find((port) => port.containerPort === SIDECAR_PROXY_PORT)?.name;
  const hint = sidecar !== undefined
    ? `use targetPort: ${sidecarPortName ?? SIDECAR_PROXY_PORT} (the sidecar's port)`
    : appPortName === undefined
      ? 'name the container port and target it by name (the sidecar takes the name over at injection)'
      : `use targetPort: ${appPortName} (the sidecar takes this name over at injection)`;

  const found: BypassingService[] = [];
  for (const service of services) {
    if (!selectsPods(service, deployment.metadata?.namespace, labels)) continue;
    const serviceName = service.metadata?.name ?? '';
    for (const port of service.spec?.ports ?? []) {
      const target = targetOf(port);
      const byName = typeof target === 'string';
      const bypasses = byName
        ? sidecar !== undefined && appPorts.some((appPort) => appPort.name === target && appPort.containerPort === fronted)
        : target === fronted;
      if (!bypasses) continue;
      const how = byName ? `targets ${target}, the app's own port (${fronted})` : `targets the app's port ${fronted} by number`;
      found.push({ name: serviceName, port: fronted, message: `Service ${serviceName} ${how}, so its traffic skips the badgateway sidecar; ${hint}` });
    }
  }
  return found;
}

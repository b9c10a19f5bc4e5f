/**
 * Which Services route to a pod template's port, as the EndpointSlice controller resolves them: a
 * Service of the same namespace whose selector is not empty and matches the template's labels, and
 * a port whose targetPort is the container port's number or its name (absent: the Service's `port`).
 */
import type { V1Service, V1ServicePort } from '@kubernetes/client-node';

export function selectsPods(service: V1Service, namespace: string | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (service.metadata?.namespace !== namespace) return false;
  const selector = service.spec?.selector ?? {};
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

/** A port's targetPort as a number or a port name; absent, the Service's own port number. */
export function targetOf(port: V1ServicePort): number | string {
  const target: number | string = port.targetPort ?? port.port;
  return typeof target === 'string' && /^[0-9]+$/.test(target) ? Number(target) : target;
}

/** Whether a Service port's TCP traffic reaches this container port. */
export function routesTo(port: V1ServicePort, containerPort: { port: number; name?: string | undefined }): boolean {
  if ((port.protocol ?? 'TCP') !== 'TCP') return false;
  const target = targetOf(port);
  return typeof target === 'number' ? target === containerPort.port : target === containerPort.name;
}

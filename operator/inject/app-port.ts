/**
 * Which port of which container is "the app": `badgateway.io/port` (a number or a port name),
 * else the port named `http`, else the first containerPort of the first container.
 */
import type { V1Container } from '@kubernetes/client-node';

export interface AppPort {
  containerIndex: number;
  /** Index in that container's ports, when the port is declared. */
  portIndex?: number;
  port: number;
  name?: string;
}

export function findAppPort(containers: readonly V1Container[], annotation: string | undefined): AppPort | { problem: string } {
  const declared = containers.flatMap((container, containerIndex) =>
    (container.ports ?? []).map((port, portIndex) => ({ containerIndex, portIndex, port: port.containerPort, name: port.name })));
  if (annotation !== undefined && annotation !== '') {
    if (/^[0-9]+$/.test(annotation)) {
      const port = Number(annotation);
      if (port < 1 || port > 65535) return { problem: `badgateway.io/port: ${annotation} is not a port number` };
      return declared.find((candidate) => candidate.port === port) ?? { containerIndex: 0, port };
    }
    const named = declared.find((candidate) => candidate.name === annotation);
    return named ?? { problem: `badgateway.io/port: no container port is named ${JSON.stringify(annotation)}` };
  }
  const http = declared.find((candidate) => candidate.name === 'http');
  if (http !== undefined) return http;
  const first = declared.find((candidate) => candidate.containerIndex === 0) ?? declared[0];
  return first ?? { problem: 'no containerPort found; set the badgateway.io/port annotation' };
}

/** `http` → `http-app`, kept a valid IANA service name (≤ 15 characters). */
export function renamedPortName(name: string): string {
  return `${name.slice(0, 11).replace(/-+$/, '')}-app`;
}

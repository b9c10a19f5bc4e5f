/**
 * What the Services in front of the app say it speaks: the `appProtocol` of each Service port that
 * routes to the app's port, or to the port the sidecar takes over (Services keep routing there
 * once injected). Kubernetes' `kubernetes.io/h2c` and Istio's `grpc`, `grpc-web` and `http2` mean
 * HTTP/2 with prior knowledge to the app (Istio's own sidecar speaks HTTP/2 to the app for all
 * three); `http` and `kubernetes.io/ws` mean HTTP/1.1. Any other value (`https`, `tcp`, a vendor's
 * `example.com/x`) says nothing about it. Compared without regard to case, as Istio does.
 */
import type { V1Service } from '@kubernetes/client-node';
import { ANNOTATIONS } from '../../api/names.js';
import type { AppProtocol, AppProtocolChoice } from './app-protocol.js';
import { byAge } from './policy-match.js';
import { routesTo, selectsPods } from './service-match.js';

const PROTOCOL_OF: ReadonlyMap<string, AppProtocol> = new Map<string, AppProtocol>([
  ['kubernetes.io/h2c', 'h2c'],
  ['grpc', 'h2c'],
  ['grpc-web', 'h2c'],
  ['http2', 'h2c'],
  ['http', 'http1'],
  ['kubernetes.io/ws', 'http1'],
]);

export interface PodTarget {
  namespace: string | undefined;
  labels: Readonly<Record<string, string>>;
  /** The container ports whose Services speak for the app: its own and the sidecar's. */
  ports: readonly { port: number; name?: string | undefined }[];
}

interface Declaration { service: V1Service; appProtocol: string; protocol: AppProtocol }

const serviceName = (service: V1Service): string => service.metadata?.name ?? '?';
const describe = ({ service, appProtocol }: Declaration): string => `Service ${serviceName(service)} (appProtocol ${appProtocol})`;

/** Every Service port that routes to the target and names a protocol this knows, oldest Service first. */
function declarations(services: readonly V1Service[], target: PodTarget): Declaration[] {
  const found: Declaration[] = [];
  const selecting = services.filter((service) => selectsPods(service, target.namespace, target.labels));
  for (const service of selecting.sort(byAge)) {
    for (const port of service.spec?.ports ?? []) {
      const appProtocol = port.appProtocol;
      const protocol = appProtocol === undefined ? undefined : PROTOCOL_OF.get(appProtocol.toLowerCase());
      if (protocol === undefined || !target.ports.some((containerPort) => routesTo(port, containerPort))) continue;
      found.push({ service, appProtocol: appProtocol as string, protocol });
    }
  }
  return found;
}

/**
 * The protocol the Services declare, or undefined when none does. When they disagree the oldest
 * Service decides (then its first such port), as the oldest policy wins a contested Deployment.
 */
export function protocolFromServices(services: readonly V1Service[], target: PodTarget): AppProtocolChoice | undefined {
  const found = declarations(services, target);
  const first = found[0];
  if (first === undefined) return undefined;
  const verdict: AppProtocolChoice = { protocol: first.protocol, why: describe(first) };
  const other = found.find((declaration) => declaration.protocol !== first.protocol);
  if (other !== undefined) {
    // Kept short: the API server may cut warnings longer than 256 characters.
    verdict.warning = `${describe(first)} and ${describe(other)} disagree: the oldest, ${serviceName(first.service)}, decides (${first.protocol}); `
      + `annotate ${ANNOTATIONS.appProtocol} to choose`;
  }
  return verdict;
}

/**
 * What the app speaks, for the sidecar's --app-protocol, first found of: the
 * `badgateway.io/app-protocol` annotation; the `appProtocol` of the Services routing to the app's
 * port (service-protocol.ts); the app port's name by Istio's convention (`grpc`, `grpc-*`, `h2c`,
 * `http2` mean HTTP/2 with prior knowledge); else HTTP/1.1.
 */
import { ANNOTATIONS } from '../../api/names.js';

export type AppProtocol = 'http1' | 'h2c';

export interface AppProtocolChoice {
  protocol: AppProtocol;
  why: string;
  /** Something the user should fix, though injection went ahead (Services that disagree). */
  warning?: string;
}

const H2C_PORT_NAME = /^(grpc|grpc-.+|h2c|http2)$/;

export function appProtocolFor(annotation: string | undefined, services: AppProtocolChoice | undefined, portName: string | undefined): AppProtocolChoice | { problem: string } {
  if (annotation !== undefined && annotation !== '') {
    if (annotation === 'http1' || annotation === 'h2c') return { protocol: annotation, why: `${ANNOTATIONS.appProtocol}: ${annotation}` };
    return { problem: `${ANNOTATIONS.appProtocol}: ${JSON.stringify(annotation)} is not one of http1, h2c` };
  }
  const namedH2c = portName !== undefined && H2C_PORT_NAME.test(portName);
  if (services !== undefined) {
    const overrules = services.protocol === 'http1' && namedH2c ? `, over the port name ${portName}` : '';
    return { ...services, why: `${services.why}${overrules}` };
  }
  if (namedH2c) return { protocol: 'h2c', why: `the app port is named ${portName}` };
  return { protocol: 'http1', why: 'default' };
}

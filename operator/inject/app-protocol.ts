/**
 * What the app speaks, for the sidecar's --app-protocol: the `badgateway.io/app-protocol`
 * annotation, else the app port's name by Istio's convention (`grpc`, `grpc-*`, `h2c`, `http2`
 * mean HTTP/2 with prior knowledge), else HTTP/1.1.
 */
import { ANNOTATIONS } from '../../api/names.js';

export type AppProtocol = 'http1' | 'h2c';

const H2C_PORT_NAME = /^(grpc|grpc-.+|h2c|http2)$/;

export function appProtocolFor(annotation: string | undefined, portName: string | undefined): { protocol: AppProtocol; why: string } | { problem: string } {
  if (annotation !== undefined && annotation !== '') {
    if (annotation === 'http1' || annotation === 'h2c') return { protocol: annotation, why: `${ANNOTATIONS.appProtocol}: ${annotation}` };
    return { problem: `${ANNOTATIONS.appProtocol}: ${JSON.stringify(annotation)} is not one of http1, h2c` };
  }
  if (portName !== undefined && H2C_PORT_NAME.test(portName)) return { protocol: 'h2c', why: `the app port is named ${portName}` };
  return { protocol: 'http1', why: 'default' };
}

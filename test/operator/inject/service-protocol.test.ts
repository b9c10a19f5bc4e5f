/**
 * The Services' `appProtocol` as injection reads it: which Services route to the app's port
 * (selector, namespace, targetPort by number or name, an absent targetPort, the sidecar's port), which
 * values say what, the precedence against the annotation and the port name, and two Services that
 * disagree.
 */
import { describe, expect, it } from '@jest/globals';
import type { V1Container, V1Deployment, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { injectDeployment, type InjectionResult } from '../../../operator/inject/inject.js';
import { DEFAULT_INJECTION_SETTINGS } from '../../../operator/inject/settings.js';

const orders = (ports: V1Container['ports'] = [{ name: 'api', containerPort: 50051 }], annotations: Record<string, string> = {}): V1Deployment => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'orders', namespace: 'shop', annotations: { 'badgateway.io/inject': 'true', ...annotations } },
  spec: {
    selector: { matchLabels: { app: 'orders' } },
    template: {
      metadata: { labels: { app: 'orders', tier: 'backend' } },
      spec: { containers: [{ name: 'orders', image: 'shop/orders:1', ports }] },
    },
  },
});

const service = (name: string, ports: V1ServicePort[], options: { selector?: Record<string, string> | undefined; namespace?: string; created?: string } = {}): V1Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: options.namespace ?? 'shop', ...(options.created === undefined ? {} : { creationTimestamp: new Date(options.created) }) },
  spec: { ...('selector' in options ? (options.selector === undefined ? {} : { selector: options.selector }) : { selector: { app: 'orders' } }), ports },
});

const inject = (deployment: V1Deployment, services: V1Service[]): InjectionResult =>
  injectDeployment(deployment, { settings: DEFAULT_INJECTION_SETTINGS, kubeVersion: 'v1.30.0', services });

const sidecarArgs = (result: InjectionResult): string[] =>
  result.deployment.spec!.template.spec!.initContainers!.find((container) => container.name === 'badgateway')!.args!;

/** `--app-protocol`'s value as injected; http1 is the sidecar's default and not passed. */
const protocolOf = (result: InjectionResult): string => {
  const args = sidecarArgs(result);
  const index = args.indexOf('--app-protocol');
  return index < 0 ? 'http1' : args[index + 1]!;
};

describe('the Services\' appProtocol at injection', () => {
  it('reads a matching Service whose port targets the app port by number, and says why', () => {
    const result = inject(orders(), [service('orders', [{ port: 80, targetPort: 50051, appProtocol: 'grpc' }])]);
    expect(protocolOf(result)).toBe('h2c');
    expect(result.reasons).toContain('the app speaks h2c (Service orders (appProtocol grpc)): HTTP/2 and gRPC to the app');
    expect(result.warnings).toEqual([]);
  });

  it('matches targetPort by the container port\'s name, and an absent targetPort by the Service\'s port', () => {
    expect(protocolOf(inject(orders(), [service('orders', [{ port: 80, targetPort: 'api', appProtocol: 'kubernetes.io/h2c' }])]))).toBe('h2c');
    expect(protocolOf(inject(orders(), [service('orders', [{ port: 50051, appProtocol: 'kubernetes.io/h2c' }])]))).toBe('h2c');
    // Another port of the pod, by number or name, says nothing about the app's.
    expect(protocolOf(inject(orders(), [service('orders', [{ port: 80, targetPort: 9090, appProtocol: 'grpc' }])]))).toBe('http1');
    expect(protocolOf(inject(orders(), [service('orders', [{ port: 80, targetPort: 'metrics', appProtocol: 'grpc' }])]))).toBe('http1');
    expect(protocolOf(inject(orders(), [service('orders', [{ port: 80, appProtocol: 'grpc' }])]))).toBe('http1');
    // A UDP port never carries the app's HTTP.
    expect(protocolOf(inject(orders(), [service('orders', [{ port: 50051, protocol: 'UDP', appProtocol: 'grpc' }])]))).toBe('http1');
  });

  it('reads only Services of the namespace whose non-empty selector matches the pod template', () => {
    const grpc = [{ port: 80, targetPort: 50051, appProtocol: 'grpc' }];
    expect(protocolOf(inject(orders(), [service('orders', grpc, { selector: { app: 'orders', tier: 'backend' } })]))).toBe('h2c');
    expect(protocolOf(inject(orders(), [service('payments', grpc, { selector: { app: 'payments' } })]))).toBe('http1');
    expect(protocolOf(inject(orders(), [service('partial', grpc, { selector: { app: 'orders', tier: 'frontend' } })]))).toBe('http1');
    // No selector (endpoints managed by hand, ExternalName) or an empty one selects no pods.
    expect(protocolOf(inject(orders(), [service('manual', grpc, { selector: undefined })]))).toBe('http1');
    expect(protocolOf(inject(orders(), [service('empty', grpc, { selector: {} })]))).toBe('http1');
    expect(protocolOf(inject(orders(), [service('elsewhere', grpc, { namespace: 'other' })]))).toBe('http1');
  });

  it('counts Services that target the sidecar\'s port: 8502, the name it takes over, or bgw-proxy', () => {
    expect(protocolOf(inject(orders(), [service('orders', [{ port: 80, targetPort: 8502, appProtocol: 'grpc' }])]))).toBe('h2c');
    const unnamed = orders([{ containerPort: 50051 }]);
    expect(protocolOf(inject(unnamed, [service('orders', [{ port: 80, targetPort: 'bgw-proxy', appProtocol: 'grpc' }])]))).toBe('h2c');
    // Injecting the injected Deployment again decides the same, though its app port is renamed.
    const services = [service('orders', [{ port: 80, targetPort: 'api', appProtocol: 'grpc' }])];
    const once = inject(orders(), services);
    expect(inject(once.deployment, services).deployment).toEqual(once.deployment);
  });

  it('knows Kubernetes\' and Istio\'s values, without regard to case, and ignores the others', () => {
    const verdict = (appProtocol: string, ports?: V1Container['ports']) => protocolOf(inject(orders(ports), [service('orders', [{ port: 80, targetPort: 50051, appProtocol }])]));
    for (const h2c of ['kubernetes.io/h2c', 'grpc', 'GRPC', 'grpc-web', 'http2', 'HTTP2', 'Kubernetes.io/H2C']) expect(`${h2c}: ${verdict(h2c)}`).toBe(`${h2c}: h2c`);
    const grpcPort = [{ name: 'grpc', containerPort: 50051 }];
    for (const http1 of ['http', 'HTTP', 'kubernetes.io/ws']) expect(`${http1}: ${verdict(http1, grpcPort)}`).toBe(`${http1}: http1`);
    // These say nothing about HTTP/1.1 or h2c: the port's name decides.
    for (const other of ['https', 'tcp', 'kubernetes.io/wss', 'example.com/grpc']) {
      expect(`${other}: ${verdict(other)}`).toBe(`${other}: http1`);
      expect(`${other}: ${verdict(other, grpcPort)}`).toBe(`${other}: h2c`);
    }
  });

  it('ranks the annotation first, then the Services, then the port name', () => {
    const grpcService = [service('orders', [{ port: 80, targetPort: 50051, appProtocol: 'grpc' }])];
    const annotated = inject(orders(undefined, { 'badgateway.io/app-protocol': 'http1' }), grpcService);
    expect(protocolOf(annotated)).toBe('http1');
    expect(annotated.reasons).toContain('the app speaks HTTP/1.1 (badgateway.io/app-protocol: http1)');
    const httpService = [service('orders', [{ port: 80, targetPort: 'grpc', appProtocol: 'http' }])];
    const overruled = inject(orders([{ name: 'grpc', containerPort: 50051 }]), httpService);
    expect(protocolOf(overruled)).toBe('http1');
    expect(overruled.reasons).toContain('the app speaks HTTP/1.1 (Service orders (appProtocol http), over the port name grpc)');
    expect(protocolOf(inject(orders([{ name: 'grpc', containerPort: 50051 }]), []))).toBe('h2c');
  });

  it('when Services disagree, the oldest decides, whatever their order, and the warning names both', () => {
    const older = service('orders-web', [{ port: 80, targetPort: 50051, appProtocol: 'http' }], { created: '2026-01-01T00:00:00Z' });
    const newer = service('orders', [{ port: 81, targetPort: 'api', appProtocol: 'grpc' }], { created: '2026-06-01T00:00:00Z' });
    for (const services of [[older, newer], [newer, older]]) {
      const result = inject(orders(), services);
      expect(protocolOf(result)).toBe('http1');
      expect(result.warnings).toEqual([
        'Service orders-web (appProtocol http) and Service orders (appProtocol grpc) disagree: the oldest, orders-web, decides (http1); annotate badgateway.io/app-protocol to choose',
      ]);
    }
    // Without creation times (manifests), by name.
    const undated = [{ ...newer, metadata: { name: 'orders', namespace: 'shop' } }, { ...older, metadata: { name: 'orders-web', namespace: 'shop' } }];
    expect(protocolOf(inject(orders(), undated.reverse()))).toBe('h2c');
    // Services that agree, or an annotation that decides, warn of nothing.
    expect(inject(orders(), [newer, { ...older, spec: { ...older.spec, ports: [{ port: 80, targetPort: 50051, appProtocol: 'kubernetes.io/h2c' }] } }]).warnings).toEqual([]);
    expect(inject(orders(undefined, { 'badgateway.io/app-protocol': 'h2c' }), [older, newer]).warnings).toEqual([]);
  });
});

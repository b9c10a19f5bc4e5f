import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import { injectDeployment } from '../../../operator/inject/inject.js';
import { applyPatch } from '../../../operator/inject/json-patch.js';
import { DEFAULT_INJECTION_SETTINGS } from '../../../operator/inject/settings.js';
import { CASES } from '../../support/fixtures/deployments.js';

const goldenDir = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const current = { settings: DEFAULT_INJECTION_SETTINGS, kubeVersion: 'v1.30.0' };
const old = { settings: DEFAULT_INJECTION_SETTINGS, kubeVersion: 'v1.27.0' };

function golden(name: string, value: unknown): void {
  const file = join(goldenDir, `${name}.yaml`);
  const text = stringify(value, { lineWidth: 0 });
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  if (!existsSync(file)) throw new Error(`golden file ${file} is missing: run with UPDATE_GOLDEN=1`);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

const sidecarOf = (deployment: V1Deployment): V1Container | undefined =>
  [...(deployment.spec!.template.spec!.initContainers ?? []), ...deployment.spec!.template.spec!.containers].find((container) => container.name === 'badgateway');

const withoutAnnotation = (deployment: V1Deployment): V1Deployment => {
  const copy = structuredClone(deployment);
  delete copy.metadata!.annotations!['badgateway.io/inject'];
  if (Object.keys(copy.metadata!.annotations!).length === 0) delete copy.metadata!.annotations;
  return copy;
};

describe('injectDeployment', () => {
  it.each(Object.keys(CASES))('%s matches its golden file (v1.30)', (name) => {
    const result = injectDeployment(CASES[name]!, current);
    golden(`${name}.v1.30`, { injectable: result.injectable, reasons: result.reasons, patch: result.patch });
  });

  it('named http port: the sidecar takes over the name, the app port and its probes are renamed', () => {
    const { deployment, injectable } = injectDeployment(CASES['named-http-port']!, current);
    expect(injectable).toBe(true);
    const pod = deployment.spec!.template.spec!;
    const app = pod.containers[0]!;
    expect(app.ports).toEqual([{ name: 'http-app', containerPort: 8080 }, { name: 'metrics', containerPort: 9090 }]);
    expect(app.readinessProbe!.httpGet!.port).toBe('http-app');
    expect(app.livenessProbe!.tcpSocket!.port).toBe('http-app');
    expect(app.lifecycle!.preStop).toEqual({ sleep: { seconds: 5 } });
    const sidecar = pod.initContainers![0]!;
    expect(sidecar).toMatchObject({
      name: 'badgateway',
      restartPolicy: 'Always',
      args: ['sidecar', '--upstream', 'http://127.0.0.1:8080', '--listen', '0.0.0.0:8502', '--admin', '0.0.0.0:8503'],
      ports: [{ name: 'http', containerPort: 8502, protocol: 'TCP' }, { name: 'bgw-admin', containerPort: 8503, protocol: 'TCP' }],
      securityContext: {
        runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
      },
    });
    expect(sidecar.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'bgw-admin' });
  });

  it('a policy mounts its ConfigMap read-only and optional; annotations set resources', () => {
    const { deployment } = injectDeployment(CASES['port-annotation-and-policy']!, current);
    const pod = deployment.spec!.template.spec!;
    const sidecar = sidecarOf(deployment)!;
    expect(sidecar.args).toContain('http://127.0.0.1:5000');
    expect(sidecar.args!.slice(-2)).toEqual(['--config', '/etc/badgateway/policy.json']);
    expect(sidecar.volumeMounts).toEqual([{ name: 'badgateway-config', mountPath: '/etc/badgateway', readOnly: true }]);
    expect(pod.volumes).toEqual([{ name: 'badgateway-config', configMap: { name: 'badgateway-cart-policy', optional: true } }]);
    expect(sidecar.resources).toEqual({ requests: { cpu: '100m', memory: '96Mi' }, limits: { memory: '96Mi' } });
    expect(pod.containers[1]!.ports![0]!.name).toBe('web-app');
  });

  it('keeps an existing preStop hook', () => {
    const { deployment, reasons } = injectDeployment(CASES['existing-prestop']!, current);
    expect(deployment.spec!.template.spec!.containers[0]!.lifecycle!.preStop).toEqual({ exec: { command: ['/drain.sh'] } });
    expect(reasons.join(' ')).not.toContain('preStop');
    expect(deployment.spec!.template.spec!.initContainers!.map((container) => container.name)).toEqual(['migrate', 'badgateway']);
  });

  it('on clusters before v1.29: a regular container and no preStop sleep', () => {
    const { deployment } = injectDeployment(CASES['named-http-port']!, old);
    const pod = deployment.spec!.template.spec!;
    expect(pod.initContainers).toBeUndefined();
    expect(pod.containers.map((container) => container.name)).toEqual(['web', 'badgateway']);
    expect(pod.containers[1]!.restartPolicy).toBeUndefined();
    expect(pod.containers[0]!.lifecycle).toBeUndefined();
  });

  it('sets --app-protocol h2c from a grpc port name or the annotation, and refuses an unknown protocol', () => {
    const byName = sidecarOf(injectDeployment(CASES['grpc-port-name']!, current).deployment)!;
    expect(byName.args).toEqual(expect.arrayContaining(['--app-protocol', 'h2c']));
    expect(byName.ports![0]!.name).toBe('grpc'); // the sidecar takes over the name, so Services still route by it
    const byAnnotation = sidecarOf(injectDeployment(CASES['app-protocol-annotation']!, current).deployment)!;
    expect(byAnnotation.args).toEqual(expect.arrayContaining(['--app-protocol', 'h2c']));
    expect(sidecarOf(injectDeployment(CASES['named-http-port']!, current).deployment)!.args).not.toContain('--app-protocol');
    const annotated = structuredClone(CASES['grpc-port-name']!);
    annotated.metadata!.annotations!['badgateway.io/app-protocol'] = 'http1';
    expect(sidecarOf(injectDeployment(annotated, current).deployment)!.args).not.toContain('--app-protocol');
    annotated.metadata!.annotations!['badgateway.io/app-protocol'] = 'grpc';
    expect(injectDeployment(annotated, current)).toMatchObject({ injectable: false, reasons: ['badgateway.io/app-protocol: "grpc" is not one of http1, h2c'] });
  });

  it('refuses what it cannot inject, with a reason', () => {
    expect(injectDeployment(CASES['no-ports']!, current)).toMatchObject({ injectable: false, patch: [], reasons: [expect.stringContaining('badgateway.io/port')] });
    expect(injectDeployment(CASES['not-annotated']!, current)).toMatchObject({ injectable: false, patch: [] });
  });

  it('is idempotent: injecting the injected object changes nothing', () => {
    for (const input of Object.values(CASES)) {
      const once = injectDeployment(input, current).deployment;
      const twice = injectDeployment(once, current);
      expect(twice.deployment).toEqual(once);
      expect(twice.patch).toEqual([]);
    }
  });

  it('updates the sidecar in place when the image changes', () => {
    const once = injectDeployment(CASES['named-http-port']!, current).deployment;
    const updated = injectDeployment(once, { ...current, settings: { ...current.settings, image: 'registry.local/badgateway:0.2.0' } });
    expect(updated.reasons[0]).toBe('already injected: updated in place');
    expect(updated.patch).toEqual([{ op: 'replace', path: '/spec/template/spec/initContainers/0/image', value: 'registry.local/badgateway:0.2.0' }]);
  });

  it('un-injects when the annotation is removed, restoring the original exactly', () => {
    for (const [name, input] of Object.entries(CASES)) {
      const injected = injectDeployment(input, current).deployment;
      const removed = injectDeployment(withoutAnnotation(injected), current);
      expect({ name, object: removed.deployment }).toEqual({ name, object: withoutAnnotation(input) });
    }
  });

  it('its JSON patch applied to the input gives the output', () => {
    for (const input of Object.values(CASES)) {
      for (const context of [current, old]) {
        const result = injectDeployment(input, context);
        expect(applyPatch(input, result.patch)).toEqual(JSON.parse(JSON.stringify(result.deployment)));
      }
    }
  });
});

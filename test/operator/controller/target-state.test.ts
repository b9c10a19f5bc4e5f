/** Pure checks of what "in effect" means for a target, and of bypass detection after injection. */
import { describe, expect, it } from '@jest/globals';
import type { V1Service } from '@kubernetes/client-node';
import { bypassingServices } from '../../../operator/controller/bypass.js';
import { mountedConfigMap, targetState } from '../../../operator/controller/target-state.js';
import { deployment } from './harness.js';

const service = (name: string, targetPort: number | string): V1Service =>
  ({ metadata: { name, namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: targetPort as never }] } });

describe('target state', () => {
  it('is configured only when the sidecar mounts this policy\'s ConfigMap as its --config', () => {
    expect(targetState(deployment('web', { app: 'web' }), 'web')).toBe('not-injected');
    expect(targetState(deployment('web', { app: 'web' }, { injected: true }), 'web')).toBe('configured');
    expect(targetState(deployment('web', { app: 'web' }, { injected: 'defaults' }), 'web')).toBe('not-configured');
    expect(targetState(deployment('web', { app: 'web' }, { injected: true, policy: 'other' }), 'web')).toBe('not-configured');
    expect(mountedConfigMap(deployment('web', { app: 'web' }, { injected: true, policy: 'other' }))).toBe('badgateway-other');
  });

  it('does not count a volume that is mounted but not read as the config', () => {
    const injected = deployment('web', { app: 'web' }, { injected: true });
    const sidecar = injected.spec!.template.spec!.initContainers![0]!;
    sidecar.args = sidecar.args!.filter((arg, index, all) => arg !== '--config' && all[index - 1] !== '--config');
    expect(targetState(injected, 'web')).toBe('not-configured');
  });
});

describe('bypass detection after injection', () => {
  const injected = deployment('web', { app: 'web' }, { injected: true });

  it('treats the app\'s renamed port name as a bypass and hints the sidecar\'s port', () => {
    const found = bypassingServices(injected, [service('renamed', 'http-app'), service('numeric', 8080), service('through', 'http'), service('sidecar', 8502)]);
    expect(found.map((item) => item.name)).toEqual(['renamed', 'numeric']);
    for (const item of found) {
      expect(item.port).toBe(8080);
      expect(item.message).toContain('use targetPort: http (the sidecar\'s port)');
      expect(item.message).not.toContain('targetPort: http-app');
    }
  });

  it('before injection, the app port\'s name is the right target (the sidecar takes it over)', () => {
    const plain = deployment('web', { app: 'web' });
    expect(bypassingServices(plain, [service('named', 'http')])).toEqual([]);
    expect(bypassingServices(plain, [service('numeric', 8080)])[0]?.message).toContain('use targetPort: http (the sidecar takes this name over');
  });
});

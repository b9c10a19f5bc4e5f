import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { silentLogger } from '../../../api/logger.js';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../../operator/kube/clients.js';
import { startLeaderElection, type LeaderElector } from '../../../operator/leader/lease.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver/index.js';
import { eventually } from '../../support/cli.js';

jest.setTimeout(60_000);

let server: TestApiServer;
let clients: KubeClients;
const electors: LeaderElector[] = [];

beforeEach(async () => {
  server = await startTestApiServer();
  clients = createKubeClients(loadKubeConfig(server.kubeconfigPath));
});
afterEach(async () => {
  await Promise.all(electors.splice(0).map((elector) => elector.close()));
  await server.close();
});

/**
 * An elector whose clock counts its readings: every attempt to acquire or renew reads it, so the
 * count witnesses that attempts happened, with no sleep; `offsetMs` moves its time.
 */
function elect(identity: string, transitions: string[]): LeaderElector & { readings(): number; offsetMs: number } {
  let readings = 0;
  const clock = { offsetMs: 0 };
  const elector = startLeaderElection({
    clients, logger: silentLogger(), identity,
    leaseName: 'badgateway-operator', leaseNamespace: 'badgateway-system',
    leaseDurationMs: 2_000, renewDeadlineMs: 1_500, retryPeriodMs: 200,
    onStartedLeading: () => { transitions.push(`${identity}+`); },
    onStoppedLeading: () => { transitions.push(`${identity}-`); },
    now: () => { readings += 1; return new Date(Date.now() + clock.offsetMs); },
  });
  electors.push(elector);
  return Object.assign(clock, { isLeader: () => elector.isLeader(), close: () => elector.close(), readings: () => readings });
}

/** Resolves once the elector has read its clock `count` more times: that many more attempts. */
async function attempts(elector: { readings(): number }, count: number): Promise<void> {
  const target = elector.readings() + count;
  await eventually(() => elector.readings() >= target, 20_000, `${count} more attempts`);
}

describe('Lease leader election', () => {
  it('elects exactly one leader and fails over when it stops', async () => {
    const transitions: string[] = [];
    const a = elect('a', transitions);
    const b = elect('b', transitions);
    await eventually(() => a.isLeader() || b.isLeader(), 20_000, 'a leader');
    await Promise.all([attempts(a, 3), attempts(b, 3)]); // both kept trying: the follower never got in
    expect([a.isLeader(), b.isLeader()].filter(Boolean)).toHaveLength(1);
    const [leader, follower] = a.isLeader() ? [a, b] : [b, a];
    const lease = await clients.coordination.readNamespacedLease({ name: 'badgateway-operator', namespace: 'badgateway-system' });
    expect(lease.spec?.holderIdentity).toBe(leader === a ? 'a' : 'b');

    await leader.close();
    await eventually(() => follower.isLeader(), 20_000, 'failover');
    expect(leader.isLeader()).toBe(false);
    expect(transitions).toHaveLength(3);
  });

  it('takes over an expired lease of a leader that vanished without releasing', async () => {
    // Renewed "now" for 10 s: however slow the machine, it is valid until c's clock moves on.
    await clients.coordination.createNamespacedLease({
      namespace: 'badgateway-system',
      body: { metadata: { name: 'badgateway-operator' }, spec: { holderIdentity: 'ghost', leaseDurationSeconds: 10, renewTime: new Date() } },
    });
    const transitions: string[] = [];
    const c = elect('c', transitions);
    await attempts(c, 3);
    expect(c.isLeader()).toBe(false);
    c.offsetMs = 11_000;
    await eventually(() => c.isLeader(), 20_000, 'takeover after expiry');
    expect(transitions).toEqual(['c+']);
  });

  it('steps down at once when it cannot renew before the deadline', async () => {
    const transitions: string[] = [];
    const d = elect('d', transitions);
    await eventually(() => d.isLeader(), 20_000, 'leading');
    server.faults.failNext(1_000_000, 500);
    await eventually(() => !d.isLeader(), 20_000, 'stepped down');
    expect(transitions).toEqual(['d+', 'd-']);
    server.faults.failNext(0, 500);
  });
});

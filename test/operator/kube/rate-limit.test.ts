/**
 * Client-side rate limiting: the token bucket's turns on a clock the test moves (no timing), and
 * the clients' wiring over real sockets: a request waits for the limiter before it reaches the API
 * server, while Lease requests never wait behind it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createKubeClients, loadKubeConfig, type KubeClients } from '../../../operator/kube/clients.js';
import { tokenBucket, type RateLimiter, type TokenBucketClock } from '../../../operator/kube/rate-limit.js';
import { startTestApiServer, type TestApiServer } from '../../support/apiserver/index.js';

/** A clock that stands still unless moved; each sleep records how long it was asked to wait. */
function manualClock(): TokenBucketClock & { at: number; sleeps: number[] } {
  const clock = {
    at: 0,
    sleeps: [] as number[],
    now: () => clock.at,
    sleep: async (ms: number) => { clock.sleeps.push(ms); },
  };
  return clock;
}

describe('token bucket', () => {
  it('lets a burst through at once, then gives each waiter its own turn, 1/qps apart', async () => {
    const clock = manualClock();
    const limiter = tokenBucket({ qps: 10, burst: 3 }, clock);
    for (let request = 0; request < 5; request += 1) await limiter.wait();
    expect(clock.sleeps).toEqual([100, 200]);
  });

  it('refills at qps while quiet, never above the burst', async () => {
    const clock = manualClock();
    const limiter = tokenBucket({ qps: 10, burst: 2 }, clock);
    for (let request = 0; request < 3; request += 1) await limiter.wait();
    expect(clock.sleeps).toEqual([100]);
    clock.at += 10_000; // a long quiet spell refills two tokens, not a hundred
    for (let request = 0; request < 3; request += 1) await limiter.wait();
    expect(clock.sleeps).toEqual([100, 100]);
  });
});

/** A limiter that holds every request until released, and says when one is waiting. */
function gate(): RateLimiter & { waiting: Promise<void>; release(): void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => { open = resolve; });
  let arrived: () => void = () => undefined;
  const waiting = new Promise<void>((resolve) => { arrived = resolve; });
  return {
    waiting,
    wait: () => {
      arrived();
      return opened;
    },
    release: () => open(),
  };
}

describe('rate-limited clients', () => {
  let server: TestApiServer;
  let admin: KubeClients;
  beforeAll(async () => {
    server = await startTestApiServer();
    admin = createKubeClients(loadKubeConfig(server.kubeconfigPath), { rateLimit: false });
  });
  afterAll(async () => server.close());

  const exists = (name: string): Promise<boolean> =>
    admin.core.readNamespacedConfigMap({ name, namespace: 'default' }).then(() => true, () => false);

  it('sends a request only when the limiter lets it, and Lease requests without waiting', async () => {
    const limiter = gate();
    const clients = createKubeClients(loadKubeConfig(server.kubeconfigPath), { rateLimit: limiter });
    const creating = clients.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'held' }, data: { a: 'b' } } });
    await limiter.waiting;
    expect(await exists('held')).toBe(false);

    // Leader election is paced by its retry period alone.
    await clients.coordination.createNamespacedLease({ namespace: 'default', body: { metadata: { name: 'not-held' }, spec: { holderIdentity: 'x' } } });

    limiter.release();
    await creating;
    expect(await exists('held')).toBe(true);
  });
});

/**
 * The only file that calls @kubernetes/client-node's constructors, so a client upgrade touches one
 * place. Everything else in operator/ receives a `KubeClients`.
 */
import * as k8s from '@kubernetes/client-node';
import { setTimeout as delay } from 'node:timers/promises';
import { DEFAULT_RATE_LIMIT, tokenBucket, type RateLimit, type RateLimiter } from './rate-limit.js';

/** The informer's reconnect back-off (up to 30 s) must not keep a stopping process alive. */
const unrefDelay = (ms: number): Promise<void> => delay(ms, undefined, { ref: false });

export interface KubeClients {
  readonly config: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly custom: k8s.CustomObjectsApi;
  readonly coordination: k8s.CoordinationV1Api;
  readonly admission: k8s.AdmissionregistrationV1Api;
  readonly apiextensions: k8s.ApiextensionsV1Api;
  readonly events: k8s.EventsV1Api;
  readonly version: k8s.VersionApi;
  readonly objects: k8s.KubernetesObjectApi;
  /**
   * An informer over `path` (list + watch, with the client's own relist on 410). The selectors
   * apply to the watch; `list` must apply the same ones to its own request. `transform` shapes
   * each listed or watched object before the cache keeps it (it may change it in place).
   */
  informer<T extends k8s.KubernetesObject>(path: string, list: k8s.ListPromise<T>, options?: InformerOptions<T>): k8s.Informer<T> & k8s.ObjectCache<T>;
}

export interface InformerOptions<T> {
  labelSelector?: string;
  fieldSelector?: string;
  transform?: (object: T) => T;
}

/** client-go's watch length: the server ends each watch after 5 to 10 minutes, at random so informers do not reconnect in step. */
const MIN_WATCH_SECONDS = 300;

/**
 * The informers' watch: bookmarks keep its resourceVersion fresh (a restart resumes instead of
 * relisting), and client-node's 30 s inactivity abort (which re-opens every quiet watch twice a
 * minute, forever) gives way to the server's own end of the watch. With a transform, each event
 * carries the transformed object; the watch's resourceVersion stays as it came.
 */
function informerWatch<T>(config: k8s.KubeConfig, transform: ((object: T) => T) | undefined): k8s.Watch {
  const watch = new k8s.Watch(config);
  const shaped = Object.create(watch) as k8s.Watch;
  shaped.watch = (path, query, callback, done) => {
    const timeoutSeconds = Math.round(MIN_WATCH_SECONDS * (1 + Math.random()));
    (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = (timeoutSeconds + 30) * 1000;
    const shapedCallback = transform === undefined ? callback : (phase: string, object: T, raw: unknown) => {
      callback(phase, phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? transform(object) : object, raw);
    };
    return watch.watch(path, { ...query, timeoutSeconds, allowWatchBookmarks: true }, shapedCallback, done);
  };
  return shaped;
}

/** A kubeconfig that cannot be used; the message is one line that says what to do. */
export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

export const NO_KUBECONFIG_MESSAGE = 'no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or run in a cluster';

const firstLine = (error: unknown): string =>
  (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';

/**
 * Loads a kubeconfig: the given file, else KUBECONFIG, ~/.kube/config or the in-cluster service
 * account. client-node falls back to an unauthenticated http://localhost:8080 when it finds none,
 * which only fails later with an unrelated TLS message; that case is reported here instead.
 */
export function loadKubeConfig(kubeconfigPath?: string): k8s.KubeConfig {
  const config = new k8s.KubeConfig();
  const explicit = kubeconfigPath !== undefined && kubeconfigPath !== '';
  try {
    if (explicit) config.loadFromFile(kubeconfigPath);
    else config.loadFromDefault();
  } catch (error) {
    const source = explicit ? `--kubeconfig: cannot read ${kubeconfigPath}` : `cannot read the kubeconfig (KUBECONFIG=${process.env['KUBECONFIG'] ?? ''})`;
    throw new KubeConfigError(`${source}: ${firstLine(error)}`);
  }
  const cluster = config.getCurrentCluster();
  if (!explicit && config.getCurrentUser()?.name === 'user' && cluster?.name === 'cluster' && cluster.server === 'http://localhost:8080') {
    throw new KubeConfigError(NO_KUBECONFIG_MESSAGE);
  }
  if (cluster === null) {
    throw new KubeConfigError(`${explicit ? `--kubeconfig: ${kubeconfigPath}` : 'the kubeconfig'} has no current context with a cluster: set current-context`);
  }
  return config;
}

/**
 * A KubeConfig whose API clients wait for `limiter` before each request (what client-go's
 * rest.Config QPS/Burst do): every generated client call authenticates through its KubeConfig
 * first, and waits there. Watches do not go through it: they are long requests, opened rarely.
 */
function rateLimited(config: k8s.KubeConfig, limiter: RateLimiter): k8s.KubeConfig {
  const limited = Object.create(config) as k8s.KubeConfig;
  limited.applySecurityAuthentication = async (context) => {
    await limiter.wait();
    await config.applySecurityAuthentication(context);
  };
  return limited;
}

export interface KubeClientOptions {
  /** Client-side rate limit of API requests (default: DEFAULT_RATE_LIMIT), a limiter of one's own, or false: none. */
  rateLimit?: RateLimit | RateLimiter | false;
}

function limiterFor(limit: RateLimit | RateLimiter | false): RateLimiter | undefined {
  if (limit === false) return undefined;
  return 'wait' in limit ? limit : tokenBucket(limit);
}

export function createKubeClients(config: k8s.KubeConfig, options: KubeClientOptions = {}): KubeClients {
  const limiter = limiterFor(options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const shared = limiter === undefined ? config : rateLimited(config, limiter);
  return {
    config,
    core: shared.makeApiClient(k8s.CoreV1Api),
    apps: shared.makeApiClient(k8s.AppsV1Api),
    custom: shared.makeApiClient(k8s.CustomObjectsApi),
    // Lease requests are paced by the retry period already; waiting behind a burst of reconcile
    // writes could only make the leader miss its renew deadline.
    coordination: config.makeApiClient(k8s.CoordinationV1Api),
    admission: shared.makeApiClient(k8s.AdmissionregistrationV1Api),
    apiextensions: shared.makeApiClient(k8s.ApiextensionsV1Api),
    events: shared.makeApiClient(k8s.EventsV1Api),
    version: shared.makeApiClient(k8s.VersionApi),
    objects: k8s.KubernetesObjectApi.makeApiClient(shared),
    informer: (path, list, options = {}) => {
      const { labelSelector, fieldSelector, transform } = options;
      const transformedList = transform === undefined ? list : async () => {
        const answer = await list();
        answer.items = answer.items.map(transform);
        return answer;
      };
      return new k8s.ListWatch(path, informerWatch(config, transform), transformedList, false, labelSelector, fieldSelector, { delayFn: unrefDelay });
    },
  };
}

/** `badgateway operator`: flags → OperatorOptions; the Helm chart uses exactly these flag names. */
import { Command, Option } from 'commander';
import { isDuration, parseDuration } from '../api/duration.js';
import { createLogger, LOG_LEVELS, settleLogs, type LogLevel } from '../api/logger.js';
import { OPERATOR_HTTP_PORT, OPERATOR_WEBHOOK_PORT } from '../api/names.js';
import { DEFAULT_INJECTION_SETTINGS } from '../operator/inject/settings.js';
import { DEFAULT_RATE_LIMIT } from '../operator/kube/rate-limit.js';
import { UsageError } from './usage-error.js';

interface OperatorFlags {
  kubeconfig?: string;
  namespace?: string;
  webhookPort: string;
  webhook: boolean;
  leaderElect: boolean;
  metricsPort: string;
  leaseName: string;
  leaseNamespace?: string;
  leaseDuration: string;
  renewDeadline: string;
  retryPeriod: string;
  maxConcurrentReconciles: string;
  kubeApiQps: string;
  kubeApiBurst: string;
  sidecarImage: string;
  sidecarCpu: string;
  sidecarMemory: string;
  sidecarCpuLimit?: string;
  sidecarMemoryLimit: string;
  drainDelay: string;
  webhookService: string;
  webhookSecret: string;
  webhookConfig: string;
  certMode: 'self-signed' | 'external';
  certDir?: string;
  logLevel: LogLevel;
  scrapeAnnotations: boolean;
}

const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;

function port(flag: string, value: string): number {
  const parsed = Number(value);
  if (!/^[0-9]+$/.test(value) || parsed > 65535) throw new UsageError(`${flag}: ${JSON.stringify(value)} is not a port number`);
  return parsed;
}
function durationMs(flag: string, value: string): number {
  if (!isDuration(value) || parseDuration(value) <= 0) throw new UsageError(`${flag}: ${JSON.stringify(value)} is not a positive duration (e.g. 15s)`);
  return parseDuration(value);
}
function quantity(flag: string, value: string): string {
  if (!QUANTITY.test(value)) throw new UsageError(`${flag}: ${JSON.stringify(value)} is not a resource quantity (e.g. 50m, 64Mi)`);
  return value;
}

export function toOperatorOptions(flags: OperatorFlags, env: NodeJS.ProcessEnv) {
  const ownNamespace = env['POD_NAMESPACE'] ?? 'badgateway-system';
  const leaseDurationMs = durationMs('--lease-duration', flags.leaseDuration);
  const renewDeadlineMs = durationMs('--renew-deadline', flags.renewDeadline);
  const retryPeriodMs = durationMs('--retry-period', flags.retryPeriod);
  if (renewDeadlineMs >= leaseDurationMs) throw new UsageError('--renew-deadline: must be shorter than --lease-duration');
  if (retryPeriodMs >= renewDeadlineMs) throw new UsageError('--retry-period: must be shorter than --renew-deadline');
  const concurrency = Number(flags.maxConcurrentReconciles);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 100) {
    throw new UsageError(`--max-concurrent-reconciles: ${JSON.stringify(flags.maxConcurrentReconciles)} must be an integer from 1 to 100`);
  }
  const qps = Number(flags.kubeApiQps);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(flags.kubeApiQps) || qps <= 0) throw new UsageError(`--kube-api-qps: ${JSON.stringify(flags.kubeApiQps)} must be a number above 0 (requests a second)`);
  const burst = Number(flags.kubeApiBurst);
  if (!Number.isInteger(burst) || burst < 1) throw new UsageError(`--kube-api-burst: ${JSON.stringify(flags.kubeApiBurst)} must be a whole number of at least 1`);
  if (flags.certMode === 'external' && flags.certDir === undefined && flags.webhook) throw new UsageError('--cert-dir: required with --cert-mode external');
  if (!isDuration(flags.drainDelay)) throw new UsageError(`--drain-delay: ${JSON.stringify(flags.drainDelay)} is not a duration (e.g. 5s)`);
  if (flags.sidecarImage.trim() === '') throw new UsageError('--sidecar-image: must not be empty');
  return {
    kubeconfig: flags.kubeconfig,
    identity: env['POD_NAME'] === undefined || env['POD_NAME'] === '' ? undefined : env['POD_NAME'],
    watchNamespace: flags.namespace,
    ownNamespace,
    webhook: flags.webhook
      ? { port: port('--webhook-port', flags.webhookPort), serviceName: flags.webhookService, secretName: flags.webhookSecret, webhookConfigName: flags.webhookConfig, certMode: flags.certMode, certDir: flags.certDir }
      : false as const,
    leaderElection: flags.leaderElect
      ? { leaseName: flags.leaseName, leaseNamespace: flags.leaseNamespace ?? ownNamespace, leaseDurationMs, renewDeadlineMs, retryPeriodMs }
      : false as const,
    metricsPort: port('--metrics-port', flags.metricsPort),
    maxConcurrentReconciles: concurrency,
    kubeApiRateLimit: { qps, burst },
    injection: {
      image: flags.sidecarImage,
      resources: {
        requests: { cpu: quantity('--sidecar-cpu', flags.sidecarCpu), memory: quantity('--sidecar-memory', flags.sidecarMemory) },
        limits: {
          ...(flags.sidecarCpuLimit === undefined ? {} : { cpu: quantity('--sidecar-cpu-limit', flags.sidecarCpuLimit) }),
          memory: quantity('--sidecar-memory-limit', flags.sidecarMemoryLimit),
        },
      },
      drainDelay: flags.drainDelay,
      logLevel: flags.logLevel,
      scrapeAnnotations: flags.scrapeAnnotations,
    },
  };
}

/** Every start-up failure is one line and exit code 2, like the sidecar's: no stack trace. */
function startupError(error: unknown): UsageError {
  if (error instanceof UsageError) return error;
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  if ((error as Error).name === 'KubeConfigError') return new UsageError(message);
  // A socket error's code is a string; the Kubernetes client's errors carry the HTTP status as a number.
  const code = (error as { code?: unknown }).code;
  if (code === 'EADDRINUSE' || code === 'EACCES') return new UsageError(`cannot listen: ${message}`);
  const status = typeof code === 'number' ? `HTTP ${code}: ` : '';
  return new UsageError(`cannot start the operator: ${status}${message}`);
}

export function registerOperatorCommand(program: Command): void {
  program
    .command('operator')
    .description('run the controller (leader-elected), the injection webhook and health/metrics')
    .option('--kubeconfig <file>', 'kubeconfig file (default: in-cluster, then ~/.kube/config)')
    .option('--namespace <ns>', 'watch only this namespace (default: all)')
    .option('--webhook-port <port>', 'admission webhook HTTPS port', String(OPERATOR_WEBHOOK_PORT))
    .option('--no-webhook', 'do not serve the admission webhook')
    .option('--no-leader-elect', 'reconcile without a leader lease (single replica only)')
    .option('--metrics-port <port>', '/healthz /readyz /metrics port', String(OPERATOR_HTTP_PORT))
    .option('--lease-name <name>', 'leader election Lease', 'badgateway-operator')
    .addOption(new Option('--lease-namespace <ns>', 'namespace of the Lease (default: POD_NAMESPACE, else badgateway-system)'))
    .option('--lease-duration <duration>', 'how long a lease is valid', '15s')
    .option('--renew-deadline <duration>', 'the leader steps down if it cannot renew within this', '10s')
    .option('--retry-period <duration>', 'time between lease attempts', '2s')
    .option('--max-concurrent-reconciles <n>', 'policies reconciled at once', '2')
    .option('--kube-api-qps <n>', 'API requests a second the operator sends at most, sustained (watches aside)', String(DEFAULT_RATE_LIMIT.qps))
    .option('--kube-api-burst <n>', 'API requests it may send at once after a quiet spell', String(DEFAULT_RATE_LIMIT.burst))
    .addOption(new Option('--sidecar-image <image>', 'image of injected sidecars').env('BADGATEWAY_SIDECAR_IMAGE').default(DEFAULT_INJECTION_SETTINGS.image))
    .option('--sidecar-cpu <quantity>', 'sidecar CPU request', DEFAULT_INJECTION_SETTINGS.resources.requests.cpu)
    .option('--sidecar-memory <quantity>', 'sidecar memory request', DEFAULT_INJECTION_SETTINGS.resources.requests.memory)
    .option('--sidecar-cpu-limit <quantity>', 'sidecar CPU limit (default: none)')
    .option('--sidecar-memory-limit <quantity>', 'sidecar memory limit', DEFAULT_INJECTION_SETTINGS.resources.limits.memory)
    .option('--drain-delay <duration>', 'default preStop delay of the app container', DEFAULT_INJECTION_SETTINGS.drainDelay)
    .option('--no-scrape-annotations', 'do not add prometheus.io/scrape|port|path annotations to injected pod templates')
    .option('--webhook-service <name>', 'Service in front of the webhook', 'badgateway-webhook')
    .option('--webhook-secret <name>', 'Secret holding the webhook TLS certificate', 'badgateway-webhook-tls')
    .option('--webhook-config <name>', 'MutatingWebhookConfiguration name', 'badgateway')
    .addOption(new Option('--cert-mode <mode>', 'webhook certificate source').choices(['self-signed', 'external']).default('self-signed'))
    .option('--cert-dir <dir>', 'directory with tls.crt and tls.key (--cert-mode external)')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .action(async (flags: OperatorFlags) => {
      const options = toOperatorOptions(flags, process.env);
      const logger = createLogger({ name: 'operator', level: flags.logLevel });
      const { runOperator } = await import('../operator/run-operator.js');
      let running;
      try {
        running = await runOperator({ ...options, logger });
      } catch (error) {
        throw startupError(error);
      }
      const stop = async (signal: string): Promise<void> => {
        logger.info({ signal }, 'shutting down');
        await running.close();
        await settleLogs(logger);
        process.exit(0);
      };
      process.once('SIGTERM', () => void stop('SIGTERM'));
      process.once('SIGINT', () => void stop('SIGINT'));
    });
}

import { Command, Option } from 'commander';
import { isDuration, parseDuration } from '../api/duration.js';
import { createLogger, LOG_LEVELS, settleLogs, type LogLevel } from '../api/logger.js';
import { relaxOldGenerationGrowth, SIDECAR_HEAP_GROWING_PERCENT } from '../sidecar/old-generation-growth.js';
import { parseHostPort } from './host-port.js';
import { UsageError } from './usage-error.js';

interface SidecarFlags {
  upstream?: string;
  listen: string;
  admin: string;
  config?: string;
  appProtocol: 'http1' | 'h2c';
  drainTimeout: string;
  logLevel: LogLevel;
}

function parseUpstream(name: string, value: string | undefined): URL {
  if (value === undefined || value === '') throw new UsageError('--upstream: required (or BADGATEWAY_UPSTREAM), e.g. http://127.0.0.1:8080');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${name}: ${JSON.stringify(value)} is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:') throw new UsageError(`${name}: ${JSON.stringify(value)} must be an http:// URL`);
  if (url.pathname !== '/' || url.search !== '' || url.username !== '') {
    throw new UsageError(`${name}: ${JSON.stringify(value)} must be scheme://host:port only, without path or credentials`);
  }
  return url;
}

/** The name the user gave a value under: the flag, or the environment variable it came from. */
function sourceName(command: Command, key: string, flag: string, variable: string): string {
  return command.getOptionValueSource(key) === 'env' ? variable : flag;
}

export function registerSidecarCommand(program: Command): void {
  program
    .command('sidecar')
    .description('run the reverse proxy in front of the app container')
    .addOption(new Option('--upstream <url>', 'the app, e.g. http://127.0.0.1:8080').env('BADGATEWAY_UPSTREAM'))
    .addOption(new Option('--listen <host:port>', 'proxy address').env('BADGATEWAY_LISTEN').default('0.0.0.0:8502'))
    .addOption(new Option('--admin <host:port>', 'admin address (/healthz /readyz /metrics /config)').env('BADGATEWAY_ADMIN').default('0.0.0.0:8503'))
    .addOption(new Option('--config <file>', 'policy.json (JSON or YAML), hot-reloaded; missing file = defaults').env('BADGATEWAY_CONFIG'))
    .addOption(new Option('--app-protocol <protocol>', 'what the app speaks: http1, or h2c (HTTP/2 with prior knowledge, e.g. gRPC)').choices(['http1', 'h2c']).env('BADGATEWAY_APP_PROTOCOL').default('http1'))
    .addOption(new Option('--drain-timeout <duration>', 'how long in-flight requests may finish on SIGTERM').default('30s'))
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .action(async (flags: SidecarFlags, command: Command) => {
      const upstream = parseUpstream(sourceName(command, 'upstream', '--upstream', 'BADGATEWAY_UPSTREAM'), flags.upstream);
      const listen = parseHostPort(sourceName(command, 'listen', '--listen', 'BADGATEWAY_LISTEN'), flags.listen);
      const admin = parseHostPort(sourceName(command, 'admin', '--admin', 'BADGATEWAY_ADMIN'), flags.admin);
      if (!isDuration(flags.drainTimeout)) throw new UsageError(`--drain-timeout: ${JSON.stringify(flags.drainTimeout)} is not a duration (e.g. 30s)`);
      const logger = createLogger({ name: 'sidecar', level: flags.logLevel });
      // Loaded here, not at the top: every subcommand shares cli/main.js and should start fast.
      const { ConfigError, runSidecar } = await import('../sidecar/run-sidecar.js');
      let running;
      try {
        running = await runSidecar({ upstream, listen, admin, configPath: flags.config, appProtocol: flags.appProtocol, drainTimeoutMs: parseDuration(flags.drainTimeout), logger });
      } catch (error) {
        if (error instanceof ConfigError) throw new UsageError(error.problems[0] ?? error.message);
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES') throw new UsageError(`cannot listen: ${(error as Error).message}`);
        throw error;
      }
      // Only now: a V8 flag change also changes the flag hash that code caches are checked against,
      // so set before start-up it made Node compile every builtin loaded later from source
      // (30-40 ms of start-up).
      const relaxed = relaxOldGenerationGrowth();
      logger.debug({ heapGrowingPercent: relaxed ? SIDECAR_HEAP_GROWING_PERCENT : 'from the node command line' }, 'V8 old-generation growth');
      const stop = async (signal: string) => {
        logger.info({ signal }, 'shutting down');
        await running.shutdown();
        await settleLogs(logger);
        process.exit(0);
      };
      process.once('SIGTERM', () => void stop('SIGTERM'));
      process.once('SIGINT', () => void stop('SIGINT'));
    });
}

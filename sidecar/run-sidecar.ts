/**
 * Composes a running sidecar: configuration (validated, hot-reloaded), the proxy, the admin
 * server and graceful drain. The CLI parses flags and signals; everything else happens here.
 */
import type { AddressInfo } from 'node:net';
import type { Logger } from '../api/logger.js';
import type { SidecarConfig } from '../api/schema.js';
import { createAdminServer } from './admin-server.js';
import { loadConfigFile, parseConfigText } from './config-file.js';
import { watchConfigFile, type ConfigWatcher } from './config-watch.js';
import type { AppProtocol, ConfigSource } from './contracts.js';
import { PrometheusSidecarMetrics } from './metrics.js';
import { createProxyServer } from './proxy-server.js';
import { warnIfUnresolvable } from './upstream-lookup.js';

export interface HostPort {
  host: string;
  port: number;
}

export interface SidecarOptions {
  upstream: URL;
  listen: HostPort;
  admin: HostPort;
  configPath?: string;
  /** What the app speaks (default http1). */
  appProtocol?: AppProtocol;
  drainTimeoutMs: number;
  logger: Logger;
  /** Reload debounce and poll, for tests. */
  reload?: { debounceMs?: number; pollMs?: number };
}

export interface RunningSidecar {
  proxyAddress: AddressInfo;
  adminAddress: AddressInfo;
  /** Drain and stop; resolves true when every in-flight request completed. */
  shutdown(): Promise<boolean>;
}

/** The initial configuration is invalid: nothing was started. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

class ConfigHolder implements ConfigSource {
  constructor(private config: Readonly<SidecarConfig>) {}
  current(): Readonly<SidecarConfig> {
    return this.config;
  }
  set(config: Readonly<SidecarConfig>): void {
    this.config = config;
  }
}


export async function runSidecar(options: SidecarOptions): Promise<RunningSidecar> {
  const { logger } = options;
  const loaded = await loadConfigFile(options.configPath);
  if (!loaded.ok) throw new ConfigError(loaded.problems);
  const config = new ConfigHolder(loaded.config);
  const metrics = new PrometheusSidecarMetrics();
  const proxy = createProxyServer({ upstream: options.upstream, appProtocol: options.appProtocol, config, metrics, logger: logger.child({ subsystem: 'proxy' }) });
  let ready = false;
  const admin = createAdminServer({ ready: () => ready, config: () => config.current(), breakerState: () => proxy.breakerState(), overloadState: () => proxy.overloadState() }, metrics);

  const proxyAddress = await proxy.listen(options.listen.host, options.listen.port);
  const adminAddress = await admin.listen(options.admin.host, options.admin.port);
  ready = true;
  logger.info({ proxy: proxyAddress, admin: adminAddress, upstream: options.upstream.origin, appProtocol: options.appProtocol ?? 'http1', config: loaded.source === 'file' ? options.configPath : 'defaults' }, 'sidecar ready');
  void warnIfUnresolvable(options.upstream, logger);

  let watcher: ConfigWatcher | undefined;
  if (options.configPath !== undefined) {
    const path = options.configPath;
    watcher = watchConfigFile({
      path,
      initialText: loaded.text,
      logger,
      ...options.reload,
      onChange: (text) => {
        const result = parseConfigText(text);
        if (!result.ok) {
          metrics.configReload('error');
          logger.error({ event: 'config-reload', result: 'error', file: path, problems: result.problems }, `config reload rejected, keeping the last good config: ${result.problems[0]}`);
          return;
        }
        config.set(result.config);
        proxy.applyConfig();
        metrics.configReload('success');
        logger.info({ event: 'config-reload', result: 'success', file: path }, 'config reloaded');
      },
    });
  }

  return {
    proxyAddress,
    adminAddress,
    async shutdown(): Promise<boolean> {
      ready = false;
      watcher?.close();
      logger.info({ drainTimeoutMs: options.drainTimeoutMs }, 'draining');
      const { completed } = await proxy.drain(options.drainTimeoutMs);
      await proxy.close();
      await admin.close();
      logger.info({ completed }, 'stopped');
      return completed;
    },
  };
}

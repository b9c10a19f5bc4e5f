/** Starts a real proxy on 127.0.0.1:0 in front of an upstream, with a swappable config. */
import { afterEach } from '@jest/globals';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { silentLogger, type Logger } from '../../api/logger.js';
import type { SidecarConfig } from '../../api/schema.js';
import { validateSidecarConfig } from '../../api/validate.js';
import type { ProxyServer } from '../../sidecar/contracts.js';
import { createProxyServer } from '../../sidecar/proxy-server.js';
import { FaultyUpstream } from './faulty-upstream.js';
import { RawUpstream, type UpstreamScript } from './raw-upstream.js';
import { RecordingMetrics } from './recording-metrics.js';

export interface Harness {
  proxy: ProxyServer;
  metrics: RecordingMetrics;
  url: string;
  address: AddressInfo;
  setConfig(input: unknown): void;
  close(): Promise<void>;
}

export function sidecarConfig(input: unknown): Readonly<SidecarConfig> {
  const result = validateSidecarConfig(input);
  if (!result.ok) throw new Error(result.problems.join('; '));
  return result.value;
}

export async function startSidecar(upstream: string, config: unknown = {}, maxHeaderSize?: number, logger: Logger = silentLogger()): Promise<Harness> {
  let current = sidecarConfig(config);
  const metrics = new RecordingMetrics();
  const proxy = createProxyServer({
    upstream: new URL(upstream),
    config: { current: () => current },
    metrics,
    logger,
    ...(maxHeaderSize === undefined ? {} : { maxHeaderSize }),
  });
  const address = await proxy.listen('127.0.0.1', 0);
  return {
    proxy,
    metrics,
    address,
    url: `http://127.0.0.1:${address.port}`,
    setConfig(input: unknown) {
      current = sidecarConfig(input);
      proxy.applyConfig();
    },
    close: () => proxy.close(),
  };
}

/**
 * Per-test upstreams and sidecars, closed after each test (newest first, so sidecars go before
 * the upstreams they front).
 */
export function sidecarFixtures() {
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const resource of opened.splice(0).reverse()) await resource.close();
  });
  return {
    async upstream(options?: ConstructorParameters<typeof FaultyUpstream>[0]): Promise<FaultyUpstream> {
      const upstream = await new FaultyUpstream(options).start();
      opened.push(upstream);
      return upstream;
    },
    /** A scripted raw-TCP app (test/support/raw-upstream.ts). */
    async rawUpstream(script?: UpstreamScript): Promise<RawUpstream> {
      const upstream = await new RawUpstream(script).start();
      opened.push(upstream);
      return upstream;
    },
    async sidecar(upstream: string, config: unknown = {}, maxHeaderSize?: number, logger?: Logger): Promise<Harness> {
      const sidecar = await startSidecar(upstream, config, maxHeaderSize, logger);
      opened.push(sidecar);
      return sidecar;
    },
  };
}

/** GET with headers; the whole body as text. */
export async function fetchText(url: string, headers: Record<string, string> = {}) {
  const response = await request(url, { headers });
  const body = await response.body.text();
  return { status: response.statusCode, headers: response.headers, body };
}

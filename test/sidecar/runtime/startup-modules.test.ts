/**
 * Start-up cost is mostly module loading: `badgateway sidecar` must load what the proxy needs and
 * nothing of the other subcommands (Kubernetes client, YAML for a JSON config, a web framework,
 * undici's fetch/WebSocket index). A load hook records every module the real CLI process loads
 * (the built CLI is an esbuild bundle, so most packages arrive inside its chunks).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { closedPort } from '../../support/faulty-upstream.js';
import { eventually, runCli, startCli } from '../../support/cli.js';

const HOOK = `import { registerHooks } from 'node:module';
import { appendFileSync } from 'node:fs';
registerHooks({ load(url, context, next) { appendFileSync(process.env.LOADED_MODULES_LOG, url + '\\n'); return next(url, context); } });
`;

let directory: string | undefined;
const stops: (() => void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  directory = undefined;
});

async function modulesLoadedBy(args: (dir: string) => Promise<string[]>, untilReadyOn?: number): Promise<string[]> {
  directory = await mkdtemp(join(tmpdir(), 'bgw-modules-'));
  const hook = join(directory, 'hook.mjs');
  const log = join(directory, 'loaded.log');
  await writeFile(hook, HOOK);
  await writeFile(log, '');
  const env = { NODE_OPTIONS: `--import=${hook}`, LOADED_MODULES_LOG: log };
  if (untilReadyOn === undefined) {
    const result = await runCli(await args(directory), { env });
    expect(result.code).toBe(0);
  } else {
    const running = startCli(await args(directory), env);
    stops.push(() => running.child.kill('SIGKILL'));
    await eventually(async () => (await request(`http://127.0.0.1:${untilReadyOn}/readyz`)).statusCode === 200, 30_000, () => `sidecar ready (output: ${running.output()})`);
  }
  return (await readFile(log, 'utf8')).split('\n').filter((line) => line !== '');
}

const packageOf = (url: string): string | undefined => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];

describe('what `badgateway sidecar` loads', () => {
  it('loads the proxy\'s modules only: no Kubernetes client, certificates, YAML (JSON config) or undici index', async () => {
    const proxyPort = await closedPort();
    const adminPort = await closedPort();
    const loaded = await modulesLoadedBy(async (dir) => {
      const config = join(dir, 'policy.json');
      await writeFile(config, JSON.stringify({ circuitBreaker: { volumeThreshold: 5 } }));
      return ['sidecar', '--upstream', 'http://127.0.0.1:9', '--listen', `127.0.0.1:${proxyPort}`, '--admin', `127.0.0.1:${adminPort}`, '--config', config, '--log-level', 'warn'];
    }, adminPort);
    // The hook sees the sidecar being loaded (bundled or not), so an empty list cannot pass...
    expect(loaded.some((url) => url.endsWith('/dist/cli/main.js'))).toBe(true);
    expect(loaded.some((url) => /\/sidecar-command[-.]/.test(url))).toBe(true);
    // ...and none of what it does not need.
    const packages = new Set(loaded.map(packageOf).filter((name) => name !== undefined));
    for (const unneeded of ['@kubernetes/client-node', 'yaml', '@peculiar/x509']) expect(packages).not.toContain(unneeded);
    expect(loaded.filter((url) => /\/node_modules\/(undici|prom-client)\/index\.js$/.test(url))).toEqual([]);
    expect(loaded.filter((url) => /\/dist\/operator\/|\/(operator|inject|crd|demo)-command[-.]/.test(url))).toEqual([]);
    // express requires body-parser, qs, send and the mime database at its top level; the bundle
    // defers them to first use, from files of their own (tools/bundle.ts), which the sidecar's
    // admin server, probes included, never uses. body-parser is the only thing that requires zlib.
    expect(loaded.filter((url) => url.includes('/dist/cli/chunks/lazy/'))).toEqual([]);
    expect(loaded).not.toContain('node:zlib');
  }, 60_000);

  it('`badgateway --help` still lists every subcommand', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const name of ['sidecar', 'operator', 'inject', 'crd', 'demo']) expect(result.stdout).toMatch(new RegExp(`^\\s+${name}\\b`, 'm'));
  });

  it('an unknown subcommand is still a usage error with exit code 2 and a suggestion', async () => {
    const result = await runCli(['sidecarr']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'sidecarr'");
    expect(result.stderr).toContain('Did you mean sidecar?');
  });
});

/**
 * The image bakes a V8 code cache for the sidecar (tools/warm-compile-cache.ts) so an injected
 * sidecar compiles less at start-up. Checked here without a Docker engine: the Dockerfile runs the
 * warm-up as the runtime user with NODE_COMPILE_CACHE pointing at the same directory, and a sidecar
 * started afterwards with that cache has every one of its bundle files accepted by V8 (Node's own
 * compile-cache debug output says so per file).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { closedPort } from '../support/faulty-upstream.js';
import { eventually, repoRoot, startCli } from '../support/cli.js';

const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
const final = dockerfile.split(/^FROM /m).at(-1) as string;

let directory: string | undefined;
const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
  if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  directory = undefined;
});

describe('the baked compile cache', () => {
  it('is warmed in the final stage, as the runtime user, into the directory NODE_COMPILE_CACHE names', () => {
    const cacheEnv = /^ENV NODE_COMPILE_CACHE=(\S+)$/m.exec(final)?.[1];
    expect(cacheEnv).toBeDefined();
    const warm = final.indexOf(`RUN node tools/warm-compile-cache.ts ${cacheEnv as string}`);
    expect(warm).toBeGreaterThan(final.indexOf('USER 65532:65532'));
    expect(warm).toBeGreaterThan(final.indexOf('COPY --from=build /src/dist ./dist'));
  });

  it('makes V8 accept cached code for every file the sidecar loads from the bundle', async () => {
    directory = mkdtempSync(join(tmpdir(), 'bgw-compile-cache-'));
    const cache = join(directory, 'cache');
    const warm = spawnSync(process.execPath, [join(repoRoot, 'tools', 'warm-compile-cache.ts'), cache], { encoding: 'utf8', timeout: 60_000 });
    expect({ status: warm.status, stderr: warm.stderr }).toEqual({ status: 0, stderr: '' });
    expect(readdirSync(cache).length).toBeGreaterThan(0);

    const admin = await closedPort();
    const running = startCli(['sidecar', '--upstream', 'http://127.0.0.1:9', '--listen', `127.0.0.1:${await closedPort()}`, '--admin', `127.0.0.1:${admin}`, '--log-level', 'warn'], { NODE_COMPILE_CACHE: cache, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' });
    stops.push(() => running.child.kill('SIGKILL'));
    await eventually(async () => (await request(`http://127.0.0.1:${admin}/readyz`)).statusCode === 200, 30_000, () => `sidecar ready (output: ${running.output()})`);

    const compiled = [...running.output().matchAll(/V8 code cache for ESM (file:\S+\/dist\/cli\/\S+\.js) was (\w+)/g)].map((match) => ({ file: match[1], verdict: match[2] }));
    expect(compiled.some(({ file }) => /\/run-sidecar-/.test(file as string))).toBe(true);
    expect(compiled.filter(({ verdict }) => verdict !== 'accepted')).toEqual([]);
  }, 90_000);
});

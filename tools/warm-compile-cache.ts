/**
 * `node tools/warm-compile-cache.ts DIR [CLI]`: fills Node's module compile cache (V8 code cache) for the
 * sidecar by starting the real `badgateway sidecar` until /readyz answers, then stopping it with
 * SIGTERM, which lets Node write the cache on exit. The image runs this at build time as its
 * runtime user and sets NODE_COMPILE_CACHE to DIR, so an injected sidecar compiles less of its
 * code at start-up; on the read-only root filesystem Node reads the entries and writes nothing.
 * Entries are keyed by Node version, file contents and user id, and Node ignores any that do not
 * match, so a stale cache costs nothing but the saving. (docs/performance.md)
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForReady } from './wait-for-ready.ts';

const cacheDirectory = process.argv[2];
if (cacheDirectory === undefined) {
  process.stderr.write('usage: node tools/warm-compile-cache.ts DIR [CLI]\n');
  process.exit(2);
}
/** CLI: another build's dist/cli/main.js (the bench measures other builds too). */
const cli = process.argv[3] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli', 'main.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const [listen, admin, upstream] = [await freePort(), await freePort(), await freePort()];
const sidecar = spawn(process.execPath, [cli, 'sidecar', '--upstream', `http://127.0.0.1:${upstream}`, '--listen', `127.0.0.1:${listen}`, '--admin', `127.0.0.1:${admin}`, '--log-level', 'warn'], {
  env: { ...process.env, NODE_COMPILE_CACHE: cacheDirectory },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const exited = new Promise<number | null>((resolve) => sidecar.on('exit', (code) => resolve(code)));

try {
  await waitForReady(admin, { timeoutMs: 30_000, pollMs: 50, stillRunning: () => sidecar.exitCode === null });
} catch (error) {
  sidecar.kill('SIGKILL');
  process.stderr.write(`warm-compile-cache: the sidecar did not become ready (${(error as Error).message})\n`);
  process.exit(1);
}
// One request through the proxy too (the upstream port is closed: an error page), so the
// request path's functions are compiled and cached as well.
await fetch(`http://127.0.0.1:${listen}/`).then((response) => response.arrayBuffer(), () => undefined);
sidecar.kill('SIGTERM');
const code = await exited;
if (code !== 0) {
  process.stderr.write(`warm-compile-cache: the sidecar exited with ${String(code)}\n`);
  process.exit(1);
}

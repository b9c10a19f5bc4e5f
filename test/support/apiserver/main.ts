/**
 * `npm run test-apiserver -- --port 0 --kubeconfig FILE [--gitVersion v1.30.0] [--route-service
 * NAMESPACE/NAME=PORT ...]`: the test API server on its own over HTTPS (see tls.ts), for driving by hand with kubectl. Writes the kubeconfig to FILE, prints one
 * line with the URL, runs until SIGTERM or SIGINT, then exits 0. Bad flags: one line on stderr, exit 2;
 * a port in use or an unwritable FILE: one line on stderr, exit 1.
 *
 * Node 24 runs this file's TypeScript directly (with --experimental-transform-types, for the
 * parameter properties elsewhere in this folder); ../typescript-imports.ts resolves the `.js`
 * import specifiers this folder shares with the compiled code to their `.ts` sources.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import '../typescript-imports.ts';

const USAGE = 'usage: test-apiserver --kubeconfig FILE [--port N] [--gitVersion vX.Y.Z] [--route-service NAMESPACE/NAME=PORT ...]';

function usageError(message: string): never {
  process.stderr.write(`test-apiserver: ${message} (${USAGE})\n`);
  process.exit(2);
}

function startError(message: string): never {
  process.stderr.write(`test-apiserver: ${message}\n`);
  process.exit(1);
}

interface Route { namespace: string; name: string; port: number }
interface Flags { port: number; kubeconfig: string; gitVersion: string | undefined; routes: Route[] }

/** `NAMESPACE/NAME=PORT`: admission webhooks of that Service are called at 127.0.0.1:PORT. */
function parseRoute(text: string): Route {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)=(\d+)$/.exec(text);
  const port = Number(match?.[5]);
  if (match === null || port < 1 || port > 65535) usageError(`--route-service must look like NAMESPACE/NAME=PORT (PORT 1-65535), got "${text}"`);
  return { namespace: match[1] as string, name: match[3] as string, port };
}

function parseFlags(argv: string[]): Flags {
  let values: { port?: string; kubeconfig?: string; gitVersion?: string; 'route-service'?: string[] };
  try {
    ({ values } = parseArgs({ args: argv, strict: true, allowPositionals: false, options: { port: { type: 'string' }, kubeconfig: { type: 'string' }, gitVersion: { type: 'string' }, 'route-service': { type: 'string', multiple: true } } }));
  } catch (error) {
    usageError((error as Error).message.split('\n')[0] as string);
  }
  const port = Number(values.port ?? '0');
  if (!/^\d+$/.test(values.port ?? '0') || port > 65535) usageError(`--port must be a number from 0 to 65535, got "${values.port}"`);
  if (values.kubeconfig === undefined || values.kubeconfig === '') usageError('--kubeconfig FILE is required');
  if (values.gitVersion !== undefined && !/^v\d+\.\d+\.\d+/.test(values.gitVersion)) usageError(`--gitVersion must look like v1.30.0, got "${values.gitVersion}"`);
  // npm runs scripts from the package root; a relative FILE means relative to where npm was invoked.
  const routes = (values['route-service'] ?? []).map(parseRoute);
  return { port, kubeconfig: resolve(process.env.INIT_CWD ?? process.cwd(), values.kubeconfig), gitVersion: values.gitVersion, routes };
}

const flags = parseFlags(process.argv.slice(2));
const { startTestApiServer } = await import('./index.js');
const { startTlsFront } = await import('./tls.js');
// The plain server listens on a private port; people and kubectl talk HTTPS to --port.
const plain = await startTestApiServer({ strictNamespaces: true, ...(flags.gitVersion === undefined ? {} : { gitVersion: flags.gitVersion }) });
for (const route of flags.routes) plain.routeService(route.namespace, route.name, route.port);
let front: Awaited<ReturnType<typeof startTlsFront>>;
try {
  front = await startTlsFront(plain, { port: flags.port });
  writeFileSync(flags.kubeconfig, front.kubeConfigYaml, { mode: 0o600 });
  chmodSync(flags.kubeconfig, 0o600); // it holds the token; an existing file keeps its mode otherwise
} catch (error) {
  await plain.close();
  startError(`cannot listen on port ${flags.port} or write ${flags.kubeconfig}: ${(error as Error).message}`);
}
process.stdout.write(`test API server listening on ${front.url}, kubeconfig ${flags.kubeconfig}\n`);
for (const route of flags.routes) process.stdout.write(`webhooks of service ${route.namespace}/${route.name} are called at https://127.0.0.1:${route.port}\n`);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void front.close().then(() => plain.close()).then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

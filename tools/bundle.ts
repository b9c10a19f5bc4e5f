/**
 * `npm run bundle`: the CLI as one esbuild bundle split per subcommand (dist/cli), so a
 * subcommand evaluates only the code it runs.
 *
 * Some of express's dependencies are loaded only when first used: express requires them at its
 * top level, and they are much of what express costs at start-up (body-parser with iconv-lite and
 * raw-body, qs, send), while the sidecar's admin server never uses them and the operator uses only
 * body-parser, for the webhook. Each becomes a small stand-in that requires the real module on
 * first use; the real module stays in the bundle. (The mime database is not among them: express
 * looks up every response's Content-Type in it.)
 */
import { rmSync } from 'node:fs';
import { build, type Plugin } from 'esbuild';

/**
 * How each module is used before its first real use: `functions` lists properties read at load
 * time (express copies body-parser's parsers onto itself), `call` marks a module that is a
 * function, and every other property is looked up at use.
 */
const LAZY_MODULES: Readonly<Record<string, { functions?: readonly string[]; call?: boolean }>> = {
  'body-parser': { functions: ['json', 'raw', 'text', 'urlencoded'] },
  qs: {},
  send: { call: true },
  'serve-static': { call: true },
};

const EAGER_SUFFIX = '?eager';

function standIn(name: string, shape: { functions?: readonly string[]; call?: boolean }): string {
  const functions = (shape.functions ?? []).map((key) => `${JSON.stringify(key)}: function () { return load()[${JSON.stringify(key)}].apply(this, arguments); }`);
  return `let real;
const load = () => (real ??= require(${JSON.stringify(name + EAGER_SUFFIX)}));
const own = { ${functions.join(', ')} };
// An arrow function has no own non-configurable "prototype", which the traps below would
// otherwise have to report exactly as the target has it.
const target = ${shape.call === true ? '(...args) => load()(...args)' : '{}'};
module.exports = new Proxy(target, {
  get: (_, key) => (Object.hasOwn(own, key) ? own[key] : load()[key]),
  has: (_, key) => key in load(),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, key) => {
    const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
    return descriptor === undefined ? undefined : { ...descriptor, configurable: true };
  },
});
`;
}

const lazyDependencies: Plugin = {
  name: 'lazy-dependencies',
  setup(esbuild) {
    const names = Object.keys(LAZY_MODULES).map((name) => name.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&'));
    esbuild.onResolve({ filter: new RegExp(`^(${names.join('|')})$`) }, (args) => {
      if ((args.pluginData as { eager?: boolean } | undefined)?.eager === true) return undefined;
      return { path: args.path, namespace: 'lazy', pluginData: args.resolveDir };
    });
    esbuild.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => ({
      contents: standIn(args.path, LAZY_MODULES[args.path] ?? {}),
      loader: 'js',
      resolveDir: args.pluginData as string,
    }));
    esbuild.onResolve({ filter: /\?eager$/ }, async (args) => {
      const resolved = await esbuild.resolve(args.path.slice(0, -EAGER_SUFFIX.length), { kind: 'require-call', resolveDir: args.resolveDir, pluginData: { eager: true } });
      return { path: resolved.path, external: resolved.external, errors: resolved.errors };
    });
  },
};

// Chunk names carry content hashes: without this, every build leaves the previous chunks behind.
rmSync('dist/cli/chunks', { recursive: true, force: true });

await build({
  entryPoints: ['cli/main.ts'],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node24',
  outdir: 'dist/cli',
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: true,
  logLevel: 'warning',
  external: ['@kubernetes/client-node', '@peculiar/x509', 'reflect-metadata'],
  // CommonJS dependencies call require(); give the ES module bundle one.
  banner: { js: "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);" },
  plugins: [lazyDependencies],
});

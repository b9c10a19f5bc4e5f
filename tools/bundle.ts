/**
 * `npm run bundle`: the CLI as one esbuild bundle split per subcommand (dist/cli), so a
 * subcommand evaluates only the code it runs.
 *
 * Some of express's dependencies are loaded only when first used: express requires them at its
 * top level, and they are much of what express costs at start-up (body-parser with iconv-lite and
 * raw-body, qs, send, the mime database), while the sidecar's admin server never uses them and the
 * operator uses only body-parser and mime-types, for the webhook. Each becomes a small stand-in
 * that requires the real module on first use. The real modules are bundled apart, one CommonJS file
 * each in dist/cli/chunks/lazy, so that a process which never uses them does not even parse them
 * (they were 0.7 MB of the 1.5 MB chunk every subcommand with express compiled at start).
 */
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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
  'mime-types': {},
};

const LAZY_DIRECTORY = 'dist/cli/chunks/lazy';
/** A stand-in's require() is relative to the chunk it lands in, which is always in dist/cli/chunks. */
const lazyFile = (name: string): string => `./lazy/${name}.cjs`;

function standIn(name: string, shape: { functions?: readonly string[]; call?: boolean }): string {
  const functions = (shape.functions ?? []).map((key) => `${JSON.stringify(key)}: function () { return load()[${JSON.stringify(key)}].apply(this, arguments); }`);
  return `let real;
const load = () => (real ??= require(${JSON.stringify(lazyFile(name))}));
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

const lazyNames = Object.keys(LAZY_MODULES);
const lazyNamesFilter = new RegExp(`^(${lazyNames.map((name) => name.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('|')})$`);

/** In the main bundle: each lazy module becomes its stand-in. */
const lazyStandIns: Plugin = {
  name: 'lazy-stand-ins',
  setup(esbuild) {
    esbuild.onResolve({ filter: lazyNamesFilter }, (args) => ({ path: args.path, namespace: 'lazy' }));
    esbuild.onLoad({ filter: /.*/, namespace: 'lazy' }, (args) => ({ contents: standIn(args.path, LAZY_MODULES[args.path] ?? {}), loader: 'js' }));
    esbuild.onResolve({ filter: /^\.\/lazy\/.*\.cjs$/, namespace: 'lazy' }, (args) => ({ path: args.path, external: true }));
  },
};

/** In a lazy module's own bundle: the other lazy modules stay shared, required from their files. */
const lazySiblings = (self: string): Plugin => ({
  name: 'lazy-siblings',
  setup(esbuild) {
    esbuild.onResolve({ filter: lazyNamesFilter }, (args) => (args.path === self ? undefined : { path: `./${args.path}.cjs`, external: true }));
  },
});

// Chunk names carry content hashes: without this, every build leaves the previous chunks behind.
rmSync('dist/cli/chunks', { recursive: true, force: true });

const main = await build({
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
  // client-node is bundled: the operator loads the few API groups it uses (6 MB) instead of every
  // generated group's module (27 MB), each of which V8 keeps as source text in the heap.
  external: ['@peculiar/x509', 'reflect-metadata'],
  // CommonJS dependencies call require(); give the ES module bundle one.
  banner: { js: "import { createRequire as createRequireForBundle } from 'node:module'; const require = createRequireForBundle(import.meta.url);" },
  plugins: [lazyStandIns],
  metafile: true,
});

const standInsOutsideChunks = Object.entries(main.metafile.outputs)
  .filter(([file, output]) => !file.startsWith('dist/cli/chunks/') && Object.keys(output.inputs).some((input) => input.startsWith('lazy:')));
if (standInsOutsideChunks.length > 0) throw new Error(`lazy stand-ins outside dist/cli/chunks cannot find ${LAZY_DIRECTORY}: ${standInsOutsideChunks.map(([file]) => file).join(', ')}`);

await Promise.all(lazyNames.map((name) => build({
  entryPoints: { [name]: name },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node24',
  outdir: LAZY_DIRECTORY,
  outExtension: { '.js': '.cjs' },
  sourcemap: true,
  logLevel: 'warning',
  plugins: [lazySiblings(name)],
})));

/** `\u` escapes of the character's UTF-16 units: two, a surrogate pair, for one outside the BMP. */
function escapeUnits(character: string): string {
  let escaped = '';
  for (let index = 0; index < character.length; index += 1) escaped += `\\u${character.charCodeAt(index).toString(16).padStart(4, '0')}`;
  return escaped;
}

/**
 * esbuild escapes non-ASCII characters in strings but leaves them in comments it keeps (JSDoc) and in
 * regular expressions. One of them anywhere makes V8 keep the whole file's source as a two-byte
 * string: the chunk with client-node took 13.4 MiB of heap instead of 7. A `\u` escape means the
 * same in a regular expression, a string or an identifier, and is inert in a comment.
 */
function asciiOnly(directory: string): void {
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !/\.c?js$/.test(entry.name)) continue;
    const path = join(entry.parentPath, entry.name);
    const text = readFileSync(path, 'utf8');
    const escaped = text.replace(/[^\p{ASCII}]/gu, escapeUnits);
    if (escaped !== text) writeFileSync(path, escaped);
  }
}
asciiOnly('dist/cli');

// Executable, so a checkout can link it onto the PATH as `badgateway` or the kubectl plugin `kubectl-badgateway`.
chmodSync('dist/cli/main.js', 0o755);

/**
 * node:http for the sidecar, loaded as a builtin rather than through an ES module `import`: the
 * ESM facade of a builtin evaluates every export, and on Node 24 node:http's exports include lazy
 * WebSocket/fetch getters that load Node's internal undici bundle and zlib — about 13 MiB of
 * memory and 40 ms of start-up the sidecar never uses. Type-only imports of node:http are fine.
 */
export const { createServer } = process.getBuiltinModule('node:http');

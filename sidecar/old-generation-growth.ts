/**
 * How far V8 lets the old generation grow between full collections, for the sidecar process.
 *
 * With an old-space cap below about 1 GiB (the injected 25 % of the memory limit is 64 MiB) V8
 * picks a small growth factor, and a proxy streaming large bodies promotes its in-flight buffers
 * quickly: at 100 KiB responses the sidecar ran a full mark-compact every 80 ms or so and spent
 * about twice the CPU per request. A factor of 4 (V8's own for large heaps) keeps the cap and
 * removes that; measurements in docs/performance.md, item 20. The flag cannot go in NODE_OPTIONS
 * (Node allows only a few V8 flags there), so the sidecar sets it itself once it is listening:
 * V8 checks code caches against a hash of its flags, and a change before start-up made Node compile
 * every builtin it loaded afterwards from source.
 */
import { setFlagsFromString } from 'node:v8';

export const SIDECAR_HEAP_GROWING_PERCENT = 300;
const FLAG = '--heap-growing-percent';

/** Sets the growth factor unless the node command line already chose one (V8 reads `_` as `-`). */
export function relaxOldGenerationGrowth(execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((argument) => argument.split('=')[0]?.replaceAll('_', '-') === FLAG)) return false;
  setFlagsFromString(`${FLAG}=${SIDECAR_HEAP_GROWING_PERCENT}`);
  return true;
}

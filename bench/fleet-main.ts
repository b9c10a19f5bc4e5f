/**
 * `npm run bench:fleet`: Node 24 runs the fleet bench from its TypeScript sources; the import hook
 * comes first so the `.js` specifiers it shares with test/cluster resolve to `.ts` files.
 */
import '../test/support/typescript-imports.ts';

await import('./fleet.ts');

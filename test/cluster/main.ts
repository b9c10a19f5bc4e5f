/**
 * `npm run cluster -- --kubeconfig FILE`: Node 24 runs the launcher (launch.ts) from its TypeScript
 * sources; the import hook comes first so their `.js` specifiers resolve to `.ts` files.
 */
import '../support/typescript-imports.ts';

await import('./launch.js');

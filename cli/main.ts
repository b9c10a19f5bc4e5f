#!/usr/bin/env node
/**
 * The `badgateway` executable. It checks the Node.js version before loading anything that needs a
 * newer one (on an old Node the first sign would otherwise be a TypeError deep inside undici), then
 * runs the command line (program.ts).
 */
import { nodeVersionProblem } from './node-version.js';

const problem = nodeVersionProblem(process.versions.node);
if (problem !== undefined) {
  process.stderr.write(`badgateway: ${problem}\n`);
  process.exit(1);
}
await import('./program.js');

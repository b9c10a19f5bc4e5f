/**
 * Conformance and interop binaries built with Go into .go-tools/ (git-ignored; .tools/ is
 * test/support/tools.ts's, unzipped whole): h2spec and grpc-go's interop client and server, pinned
 * in test/support/go-tools/go.mod and built by `npm run go-tools` (which .ci/run runs). Tests that
 * need one skip with one printed line naming that command, except in CI (CI=true), where they fail.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

export type GoTool = 'h2spec' | 'interop-server' | 'interop-client';

/** The binary's path in .go-tools/, or undefined (after one line on stderr saying how to build it). */
export function goTool(name: GoTool, suite: string): string | undefined {
  const local = join(repoRoot, '.go-tools', name);
  if (existsSync(local)) return local;
  // In CI a skip would prove nothing: .ci/run builds them, so a missing one is a broken run.
  if (process.env.CI === 'true') throw new Error(`${suite}: ${local} is missing (npm run go-tools)`);
  // stderr, not console.log: jest drops console output of suites whose tests were all skipped.
  process.stderr.write(`${suite} SKIPPED: ${name} not built (npm run go-tools; Go 1.25+ on the PATH)\n`);
  return undefined;
}

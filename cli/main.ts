#!/usr/bin/env node
/** The `badgateway` command: flag parsing and wiring only; each subcommand lives in its own file. */
import { Command, CommanderError } from 'commander';
import { registerCrdCommand } from './crd-command.js';
import { registerDemoCommand } from './demo-command.js';
import { registerInjectCommand } from './inject-command.js';
import { registerOperatorCommand } from './operator-command.js';
import { registerSidecarCommand } from './sidecar-command.js';
import { USAGE_EXIT_CODE, reportUsageError } from './usage-error.js';

const program = new Command('badgateway')
  .description('Fast, well-formed, branded 502s for failing Kubernetes workloads')
  .showHelpAfterError(false)
  .exitOverride()
  .configureOutput({ outputError: (text) => process.stderr.write(text) });

registerSidecarCommand(program);
registerOperatorCommand(program);
registerInjectCommand(program);
registerCrdCommand(program);
registerDemoCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end here with exit code 0; usage errors were already printed.
    process.exit(error.exitCode === 0 ? 0 : USAGE_EXIT_CODE);
  }
  reportUsageError(error);
}

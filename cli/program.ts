/**
 * The `badgateway` command line (main.ts runs it once the Node.js version is checked): flag parsing
 * and wiring only; each subcommand lives in its own file.
 *
 * Start-up time matters (a sidecar must be ready in well under a second), so only the subcommand
 * that runs is loaded: `badgateway sidecar` never loads the operator's Kubernetes client, the CRD
 * generator or YAML. `--help`, `help` and unknown commands load all of them, so help still lists
 * every command and commander still reports mistakes.
 */
import { Command, CommanderError } from 'commander';
import { USAGE_EXIT_CODE, reportUsageError } from './usage-error.js';
import { VERSION } from './version.js';

type Register = (program: Command) => void;

/** Each subcommand's name and how to load its registration; the order is the help order. */
const SUBCOMMANDS: readonly { name: string; load: () => Promise<Register> }[] = [
  { name: 'sidecar', load: async () => (await import('./sidecar-command.js')).registerSidecarCommand },
  { name: 'operator', load: async () => (await import('./operator-command.js')).registerOperatorCommand },
  { name: 'inject', load: async () => (await import('./inject-command.js')).registerInjectCommand },
  { name: 'crd', load: async () => (await import('./crd-command.js')).registerCrdCommand },
  { name: 'demo', load: async () => (await import('./demo-command.js')).registerDemoCommand },
  { name: 'check', load: async () => (await import('./check-command.js')).registerCheckCommand },
];

/** The subcommand named on the command line: the first argument, as `badgateway` has no options of its own. */
function requestedSubcommand(argv: readonly string[]): string | undefined {
  const first = argv[2];
  return SUBCOMMANDS.some((command) => command.name === first) ? first : undefined;
}

const program = new Command('badgateway')
  .description('Fast, well-formed, branded 502s for failing Kubernetes workloads')
  .version(VERSION, '-v, --version', 'print the version')
  .showHelpAfterError(false)
  .exitOverride()
  // Commander's own mistakes ("error: unknown option ...") read like ours: "badgateway: ...".
  .configureOutput({ outputError: (text) => process.stderr.write(text.replace(/^error: /, 'badgateway: ')) });

const requested = requestedSubcommand(process.argv);
const registrations = await Promise.all(SUBCOMMANDS.filter((command) => requested === undefined || command.name === requested).map((command) => command.load()));
for (const register of registrations) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end here with exit code 0; usage errors were already printed.
    process.exit(error.exitCode === 0 ? 0 : USAGE_EXIT_CODE);
  }
  reportUsageError(error);
}

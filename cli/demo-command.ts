import { Command, Option } from 'commander';
import { isDuration, parseDuration } from '../api/duration.js';
import { UsageError } from './usage-error.js';

function port(flag: string, value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0 || number > 65535) throw new UsageError(`${flag}: ${JSON.stringify(value)} is not a port`);
  return number;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('local demo: a sample app and the sidecar in front of it, no cluster needed')
    .addOption(new Option('--port <port>', 'sidecar proxy port').default('8502'))
    .addOption(new Option('--admin-port <port>', 'sidecar admin port').default('8503'))
    .addOption(new Option('--control-port <port>', 'port of the HTTP switch for the app').default('8504'))
    .addOption(new Option('--duration <duration>', 'stop after this long').default('0', 'until q or Ctrl-C'))
    .addOption(new Option('--grpc', 'the sample app is a gRPC server over h2c (the sidecar runs with --app-protocol h2c)'))
    .action(async (flags: { port: string; adminPort: string; controlPort: string; duration: string; grpc?: boolean }) => {
      if (!isDuration(flags.duration)) throw new UsageError(`--duration: ${JSON.stringify(flags.duration)} is not a duration (e.g. 30s)`);
      const { runDemo } = await import('../sidecar/demo/run-demo.js');
      await runDemo({
        listenPort: port('--port', flags.port),
        adminPort: port('--admin-port', flags.adminPort),
        controlPort: port('--control-port', flags.controlPort),
        durationMs: parseDuration(flags.duration),
        grpc: flags.grpc === true,
        out: process.stdout,
        interactive: process.stdin.isTTY === true && process.stdout.isTTY === true,
      });
      process.exit(0);
    });
}

import type { Command } from 'commander';

export function registerSidecarCommand(program: Command): void {
  program.command('sidecar').description('(not implemented yet)').action(() => {
    process.stderr.write('badgateway: sidecar is not implemented yet\n');
    process.exit(1);
  });
}

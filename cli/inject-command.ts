import type { Command } from 'commander';

export function registerInjectCommand(program: Command): void {
  program.command('inject').description('(not implemented yet)').action(() => {
    process.stderr.write('badgateway: inject is not implemented yet\n');
    process.exit(1);
  });
}

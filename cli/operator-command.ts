import type { Command } from 'commander';

export function registerOperatorCommand(program: Command): void {
  program.command('operator').description('(not implemented yet)').action(() => {
    process.stderr.write('badgateway: operator is not implemented yet\n');
    process.exit(1);
  });
}

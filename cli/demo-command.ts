import type { Command } from 'commander';

export function registerDemoCommand(program: Command): void {
  program.command('demo').description('(not implemented yet)').action(() => {
    process.stderr.write('badgateway: demo is not implemented yet\n');
    process.exit(1);
  });
}

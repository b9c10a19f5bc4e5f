/**
 * `npm run soak -- --minutes 5` (or `--seconds N`, `--concurrency N`): the soak of
 * test/reliability/soak/soak.ts by hand, printing its numbers; exit 1 when something went wrong.
 */
import { parseArgs } from 'node:util';
import { runSoak, soakProblems } from './soak.ts';

const { values } = parseArgs({
  options: { minutes: { type: 'string' }, seconds: { type: 'string' }, concurrency: { type: 'string', default: '32' } },
});
const seconds = values.seconds !== undefined ? Number(values.seconds) : Number(values.minutes ?? '5') * 60;
const concurrency = Number(values.concurrency);
function refuse(message: string): never {
  console.error(message);
  process.exit(2);
}
if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 3_600) refuse('--minutes/--seconds: a duration up to 60 minutes');
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1_000) refuse('--concurrency: an integer from 1 to 1000');

const started = Date.now();
const result = await runSoak({ seconds, concurrency, log: (line) => console.log(`[soak ${Math.round((Date.now() - started) / 1000)}s] ${line}`) });
console.log(`soak-result: ${JSON.stringify(result)}`);
const problems = soakProblems(result);
console.log(problems.length === 0 ? 'soak: no crash, fds and heap back at baseline' : `soak FAILED: ${problems.join('; ')}`);
process.exitCode = problems.length === 0 ? 0 : 1;

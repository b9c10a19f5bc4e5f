/**
 * Renders a results page again from the figures a bench run saved beside it, e.g. after the
 * explanations in targets-report.ts change:  node bench/render.ts bench/RESULTS.json [bench/RESULTS.md]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { renderResults, type Results } from './report.ts';

const [input, output = input?.replace(/\.json$/, '.md')] = process.argv.slice(2);
if (input === undefined || output === undefined || output === input) {
  process.stderr.write('usage: node bench/render.ts RESULTS.json [RESULTS.md]\n');
  process.exit(2);
}
const results = JSON.parse(readFileSync(input, 'utf8'), (_key, value: unknown) => (value === null ? NaN : value)) as Results;
writeFileSync(output, renderResults(results));
process.stdout.write(`bench: rendered ${output} from ${input}\n`);

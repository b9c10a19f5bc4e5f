/** The overload section of bench/RESULTS.md. */
import { CLIENT_TIMEOUT_MS, SIDECAR_LIMITED, SIDECAR_NO_QUEUE, type OverloadResults } from './overload.ts';

const n = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const percent = (value: number) => (Number.isFinite(value) ? `${(value * 100).toFixed(0)} %` : '—');

export function renderOverload(results: OverloadResults): string[] {
  const { model } = results;
  const capacity = Number.isFinite(results.capacityRps) ? results.capacityRps : (model.capacity * 1000) / model.serviceMs;
  const lines = ['', `## Overload (an app with capacity ${model.capacity} × ${model.serviceMs} ms, slower beyond)`, '',
    `The app answers ${model.capacity} requests in parallel in ${model.serviceMs} ms each; beyond that the work is shared and costs ${model.degradation * 100} % more per capacity's worth of excess (sidecar/demo/load-latency.ts), so its throughput falls as overload grows. ` +
    `Open-loop load: 1×, 2× and 4× the app's theoretical ${n((model.capacity * 1000) / model.serviceMs)} requests/s, sent on schedule for ${results.seconds} s each whatever the answers; a user abandons a request after ${CLIENT_TIMEOUT_MS / 1000} s. ` +
    `Capacity, measured straight at the app with ${model.capacity} closed-loop clients: **${n(capacity)} 2xx/s**; "of capacity" is relative to that.`, '',
    '| load | target | goodput 2xx/s | of capacity | p50 ms (2xx) | p99 ms (2xx) | p99 / unloaded p99 | shed (503) | abandoned | other errors | recovery ms |', '|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const row of results.rows) {
    const unloaded = results.unloadedP99[row.target] ?? NaN;
    lines.push(`| ${row.load}× | ${row.target} | ${n(row.goodput)} | ${percent(row.goodput / capacity)} | ${n(row.p50, 1)} | ${n(row.p99, 1)} | ${n(row.p99 / unloaded, 2)}× | ${percent(row.shedShare)} | ${percent(row.timedOutShare)} | ${row.otherErrors} | ${n(row.recoverMs)} |`);
  }
  const at4 = (target: string) => results.rows.find((row) => row.load === 4 && row.target === target);
  const verdicts: string[] = [];
  for (const target of [SIDECAR_LIMITED, SIDECAR_NO_QUEUE]) {
    const row = at4(target);
    if (row === undefined) continue;
    const share = row.goodput / capacity;
    const ratio = row.p99 / (results.unloadedP99[target] ?? NaN);
    verdicts.push(`${target}: goodput **${percent(share)}** of capacity (target ≥ 90 %: ${share >= 0.9 ? 'met' : 'not met'}), p99 of 2xx **${n(ratio, 2)}×** unloaded (target ≤ 3×: ${ratio <= 3 ? 'met' : 'not met'}).`);
  }
  if (verdicts.length > 0) lines.push('', 'At 4× capacity:', '', ...verdicts.map((text) => `- ${text}`));
  lines.push('', `Unloaded p99 (one client), ms: ${Object.entries(results.unloadedP99).map(([name, p99]) => `${name} ${n(p99, 1)}`).join(' · ')}. ` +
    'Recovery: after the load stops, probes every 10 ms until one gets a 2xx within twice the unloaded p99. ' +
    `Sidecar policies: ${Object.entries(results.configs).map(([name, config]) => `${name} \`${config}\``).join('; ')}. nginx proxies with no limit (its \`limit_conn\` has no queue).`);
  return lines;
}

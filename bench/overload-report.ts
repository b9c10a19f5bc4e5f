/** The overload section of bench/RESULTS.md (and bench/RESULTS-overload.md): the table and each target's verdict. */
import { CLIENT_TIMEOUT_MS, HAPROXY_QUEUE, SIDECAR_FIFO, SIDECAR_LIMITED, type OverloadResults, type OverloadRow } from './overload.ts';

const n = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const percent = (value: number) => (Number.isFinite(value) ? `${(value * 100).toFixed(0)} %` : '—');
const verdict = (met: boolean) => (met ? 'met' : '**missed**');

/** The issue's targets: goodput and p99 under overload, recovery, and goodput with a core taken. */
const LATENCY_LOADS = ['2×', '4×', '32× closed'];
const GOODPUT_SHARE = 0.9;
const P99_RATIO = 2;
const RECOVERY_MS = 1_000;
const BUSY_CORE_SHARE = 0.7;

function verdicts(results: OverloadResults, capacity: number, target: string): string[] {
  const row = (load: string): OverloadRow | undefined => results.rows.find((candidate) => candidate.load === load && candidate.target === target);
  const unloaded = results.unloadedP99[target] ?? NaN;
  const lines: string[] = [];
  for (const load of LATENCY_LOADS) {
    const found = row(load);
    if (found === undefined) continue;
    const share = found.goodput / capacity;
    const ratio = found.p99 / unloaded;
    lines.push(`${load}: goodput **${percent(share)}** of capacity (≥ 90 %: ${verdict(share >= GOODPUT_SHARE)}), p99 of 2xx **${n(ratio, 2)}×** unloaded (≤ 2×: ${verdict(ratio <= P99_RATIO)}), recovery **${n(found.recoverMs)} ms** (≤ 1 s: ${verdict(found.recoverMs <= RECOVERY_MS)})`);
  }
  const busy = row('2× + busy core');
  if (busy !== undefined) lines.push(`2× with a core taken: goodput **${percent(busy.goodput / capacity)}** of capacity (≥ 70 %: ${verdict(busy.goodput / capacity >= BUSY_CORE_SHARE)})`);
  return lines;
}

function machineLine(machine: OverloadResults['machine']): string {
  const shared = 'Other work shares this machine, so absolute figures are noisy: compare rows of the same load, and p99 as a ratio to the unloaded p99 measured in this run.';
  if (machine === undefined) return shared;
  return `Machine: ${machine.cores} cores, 1-minute load average ${n(machine.loadBefore, 1)} at the start and ${n(machine.loadAfter, 1)} at the end. ${shared}`;
}

export function renderOverload(results: OverloadResults): string[] {
  const { model } = results;
  const capacity = Number.isFinite(results.capacityRps) ? results.capacityRps : (model.capacity * 1000) / model.serviceMs;
  const lines = ['', `## Overload (an app with capacity ${model.capacity} × ${model.serviceMs} ms, slower beyond)`, '',
    `The app answers ${model.capacity} requests in parallel in ${model.serviceMs} ms each; beyond that the work is shared and costs ${model.degradation * 100} % more per capacity's worth of excess (sidecar/demo/load-latency.ts), so its throughput falls as overload grows. ` +
    `Open-loop load: 1×, 2× and 4× the app's theoretical ${n((model.capacity * 1000) / model.serviceMs)} requests/s, sent on schedule for ${results.seconds} s each whatever the answers; a user abandons a request after ${CLIENT_TIMEOUT_MS / 1000} s. ` +
    `Closed loop: 32 × ${model.capacity} clients, each sending its next request as soon as the last is answered (a 503 included). ` +
    'Busy core: 2× open loop while another process spins on one of the machine\'s cores. ' +
    `Capacity, measured straight at the app with ${model.capacity} closed-loop clients: **${n(capacity)} 2xx/s**; "of capacity" is relative to that.`, '',
    machineLine(results.machine), '',
    '| load | target | goodput 2xx/s | of capacity | p50 ms (2xx) | p99 ms (2xx) | p99 / unloaded p99 | shed (503) | abandoned | other errors | recovery ms |', '|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const row of results.rows) {
    const unloaded = results.unloadedP99[row.target] ?? NaN;
    lines.push(`| ${row.load} | ${row.target} | ${n(row.goodput)} | ${percent(row.goodput / capacity)} | ${n(row.p50, 1)} | ${n(row.p99, 1)} | ${n(row.p99 / unloaded, 2)}× | ${percent(row.shedShare)} | ${percent(row.timedOutShare)} | ${row.otherErrors} | ${n(row.recoverMs)} |`);
  }
  for (const target of [SIDECAR_LIMITED, SIDECAR_FIFO, HAPROXY_QUEUE]) {
    const found = verdicts(results, capacity, target);
    if (found.length > 0) lines.push('', `Targets, ${target}:`, '', ...found.map((text) => `- ${text}`));
  }
  lines.push('', `Unloaded p99 (one client), ms: ${Object.entries(results.unloadedP99).map(([name, p99]) => `${name} ${n(p99, 1)}`).join(' · ')}. ` +
    'Recovery: after the load stops, probes every 10 ms until one gets a 2xx within the unloaded p99. ' +
    `Sidecar policies: ${Object.entries(results.configs).map(([name, config]) => `${name} \`${config}\``).join('; ')}. nginx proxies with no limit (its \`limit_conn\` has no queue).`);
  return lines;
}

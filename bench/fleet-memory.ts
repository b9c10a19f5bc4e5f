/**
 * The operator's memory at a fleet size: RSS, its anonymous part (without the mapped node binary),
 * what it is made of (fleet-memory-parts.ts), and the JS heap that stays alive after full garbage collections, the figure the
 * bytes-per-Deployment slope is taken from (the heap in use between collections moves by more
 * than a few hundred Deployments weigh).
 */
import { sum } from './fleet-metrics.ts';
import { memoryParts, recordParts, type MemoryParts } from './fleet-memory-parts.ts';
import { operatorSettled, type FleetOperator } from './fleet-operator.ts';
import { rssMiB } from './processes.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
const MIB = 1024 * 1024;
const SAMPLES = 5;

export interface Footprint { rss: number; anon: number; heapAfterGc: number; parts: MemoryParts }

/** After the operator settled; the heap is the lowest of several samples, each right after a full collection (MiB). */
export async function footprint(operator: FleetOperator): Promise<Footprint> {
  await operatorSettled(operator, 300_000);
  let heapAfterGc = Infinity;
  for (let sample = 0; sample < SAMPLES; sample += 1) {
    operator.collectGarbage();
    await sleep(1000);
    heapAfterGc = Math.min(heapAfterGc, sum(await operator.metrics(), 'badgateway_operator_nodejs_heap_size_used_bytes') / MIB);
  }
  return { rss: rssMiB(operator.pid), anon: rssMiB(operator.pid, 'RssAnon'), heapAfterGc, parts: memoryParts(operator.pid, operator.memoryFile) };
}

export function recordFootprint(figures: Record<string, number>, label: string, measured: Footprint): void {
  figures[`rss_${label}_mib`] = Number(measured.rss.toFixed(1));
  figures[`rss_anon_${label}_mib`] = Number(measured.anon.toFixed(1));
  figures[`heap_after_gc_${label}_mib`] = Number(measured.heapAfterGc.toFixed(2));
  recordParts(figures, label, measured.parts);
}

/** Bytes a Deployment adds: the difference of two footprints over the difference of their fleet sizes. */
export function bytesPerDeployment(small: { deployments: number; mib: number }, large: { deployments: number; mib: number }): number {
  return Math.round(((large.mib - small.mib) * MIB) / (large.deployments - small.deployments));
}

/**
 * Loaded into a real `badgateway sidecar` process with `node --import` by bench/alloc-measure.ts,
 * and driven over the IPC channel: 'start' begins a measurement, 'stop' answers with what the
 * process did meanwhile — bytes allocated on V8's heap, collections by kind, CPU time, RSS — and,
 * when asked, the sampling heap profiler's allocation sites.
 *
 * Bytes allocated come from V8's own accounting around every collection (v8.GCProfiler): what
 * each collection freed, plus how much the used heap grew over the window. V8's heap statistics
 * have no allocation counter of their own, and process.memoryUsage() only samples the level.
 */
import { Session } from 'node:inspector/promises';
import v8 from 'node:v8';

export interface ProbeReport {
  allocatedBytes: number;
  scavenges: number;
  markCompacts: number;
  /** Milliseconds spent in collections (GCProfiler's cost). */
  gcMs: number;
  cpuMicros: number;
  rssBytes: number;
  /** Allocation sites, biggest first: bytes in the window, `function file:line`. */
  sites: { bytes: number; site: string }[];
}

export type ProbeCommand = { command: 'start'; sample: boolean } | { command: 'stop' };

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

let profiler: v8.GCProfiler | null = null;
let session: Session | null = null;
let usedAtStart = 0;
let cpuAtStart: NodeJS.CpuUsage = { user: 0, system: 0 };

async function start(sample: boolean): Promise<void> {
  if (sample) {
    session = new Session();
    session.connect();
    // Every object, not only the survivors: what the young generation churns through is the point.
    await session.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }
  profiler = new v8.GCProfiler();
  profiler.start();
  usedAtStart = v8.getHeapStatistics().used_heap_size;
  cpuAtStart = process.cpuUsage();
}

async function stop(): Promise<ProbeReport> {
  const cpu = process.cpuUsage(cpuAtStart);
  const usedAtEnd = v8.getHeapStatistics().used_heap_size;
  const statistics = profiler?.stop()?.statistics ?? [];
  profiler = null;
  let freed = 0;
  let scavenges = 0;
  let markCompacts = 0;
  let gcMs = 0;
  for (const gc of statistics) {
    freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
    gcMs += gc.cost / 1000;
    if (gc.gcType === 'Scavenge' || gc.gcType === 'MinorMarkSweep') scavenges += 1;
    else if (gc.gcType === 'MarkSweepCompact') markCompacts += 1;
  }
  const sites: ProbeReport['sites'] = [];
  if (session !== null) {
    const { profile } = await session.post('HeapProfiler.stopSampling') as { profile: { head: ProfileNode } };
    session.disconnect();
    session = null;
    sites.push(...allocationSites(profile.head));
  }
  return { allocatedBytes: freed + usedAtEnd - usedAtStart, scavenges, markCompacts, gcMs, cpuMicros: cpu.user + cpu.system, rssBytes: process.memoryUsage.rss(), sites };
}

/** Self sizes summed per function and line, biggest first. */
function allocationSites(head: ProfileNode): ProbeReport['sites'] {
  const bySite = new Map<string, number>();
  const visit = (node: ProfileNode, caller: string): void => {
    const frame = node.callFrame;
    const file = frame.url.replace(/^.*\/(dist|node_modules)\//, '$1/');
    const site = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}${frame.url === '' ? ` ← ${caller}` : ''}`;
    if (node.selfSize > 0) bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    for (const child of node.children) visit(child, frame.url === '' ? caller : site);
  };
  visit(head, '');
  return [...bySite].map(([site, bytes]) => ({ site, bytes })).sort((a, b) => b.bytes - a.bytes);
}

process.on('message', (message: ProbeCommand) => {
  const reply = (report: ProbeReport | { started: true }) => process.send?.(report);
  if (message.command === 'start') void start(message.sample).then(() => reply({ started: true }));
  else void stop().then(reply);
});
// The channel must not keep a stopped sidecar alive.
process.channel?.unref();

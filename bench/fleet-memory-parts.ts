/**
 * What the operator's RSS is made of at one moment. From /proc/PID/smaps: the resident pages
 * mapped from the node binary, from other files (shared libraries) and anonymous ones. From the
 * operator itself right after a full collection (fleet-gc-preload.ts): V8's heap, reserved and
 * used, by space, and the memory outside the heap that V8 is told about (external: Buffers and
 * ArrayBuffers). Anonymous minus the heap reserved is native memory: malloc's arenas (TLS, HTTP
 * parsers, Buffers' backing stores, compiled code's metadata) and thread stacks.
 */
import { readFileSync, realpathSync } from 'node:fs';

const MIB = 1024 * 1024;

export interface MemoryParts {
  rssMiB: number;
  nodeBinaryMiB: number;
  otherFilesMiB: number;
  anonymousMiB: number;
  heapTotalMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
  arrayBuffersMiB: number;
  /** Each V8 heap space: reserved / used (MiB). */
  spaces: Record<string, { sizeMiB: number; usedMiB: number }>;
}

interface Written {
  usage: NodeJS.MemoryUsage;
  spaces: Array<{ space_name: string; space_size: number; space_used_size: number }>;
}

/** Resident kB by where the mapping comes from: the node binary, another file, or none. */
function residentByOrigin(pid: number): { nodeBinary: number; otherFiles: number; anonymous: number } {
  const binary = realpathSync(process.execPath);
  const totals = { nodeBinary: 0, otherFiles: 0, anonymous: 0 };
  let origin: keyof typeof totals = 'anonymous';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const mapping = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (mapping !== null) {
      const path = mapping[1] ?? '';
      origin = path === binary ? 'nodeBinary' : path.startsWith('/') ? 'otherFiles' : 'anonymous';
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss !== null) totals[origin] += Number(rss[1]);
  }
  return totals;
}

const mib = (bytes: number): number => Number((bytes / MIB).toFixed(1));

export function memoryParts(pid: number, memoryFile: string): MemoryParts {
  const resident = residentByOrigin(pid);
  const written = JSON.parse(readFileSync(memoryFile, 'utf8')) as Written;
  return {
    rssMiB: mib((resident.nodeBinary + resident.otherFiles + resident.anonymous) * 1024),
    nodeBinaryMiB: mib(resident.nodeBinary * 1024),
    otherFilesMiB: mib(resident.otherFiles * 1024),
    anonymousMiB: mib(resident.anonymous * 1024),
    heapTotalMiB: mib(written.usage.heapTotal),
    heapUsedMiB: mib(written.usage.heapUsed),
    externalMiB: mib(written.usage.external),
    arrayBuffersMiB: mib(written.usage.arrayBuffers),
    spaces: Object.fromEntries(written.spaces.map((space) => [space.space_name, { sizeMiB: mib(space.space_size), usedMiB: mib(space.space_used_size) }])),
  };
}

export function describeParts(parts: MemoryParts): string {
  const spaces = Object.entries(parts.spaces)
    .filter(([, space]) => space.sizeMiB >= 0.5)
    .map(([name, space]) => `${name} ${space.usedMiB}/${space.sizeMiB}`).join(', ');
  return `RSS ${parts.rssMiB} MiB = node binary ${parts.nodeBinaryMiB} + other files ${parts.otherFilesMiB} + anonymous ${parts.anonymousMiB} `
    + `(V8 heap ${parts.heapUsedMiB} used of ${parts.heapTotalMiB} reserved; native ${mib((parts.anonymousMiB - parts.heapTotalMiB) * MIB)}, `
    + `of which external ${parts.externalMiB}, array buffers ${parts.arrayBuffersMiB}); heap spaces used/reserved: ${spaces}`;
}

export function recordParts(figures: Record<string, number>, label: string, parts: MemoryParts): void {
  for (const [name, value] of Object.entries(parts)) {
    if (typeof value === 'number') figures[`memory_${label}_${name.replace(/MiB$/, '').replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)}_mib`] = value;
  }
  for (const [name, space] of Object.entries(parts.spaces)) figures[`memory_${label}_${name}_mib`] = space.sizeMiB;
}

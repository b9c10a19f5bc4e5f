/**
 * A memory cgroup with a limit, as the kubelet gives a container: cgroup v2 (memory.max) or v1
 * (memory.limit_in_bytes). Creating one needs root and a writable cgroup filesystem; where there
 * is none, `createMemoryCgroup` says why instead.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MemoryCgroup {
  /** The file a process writes its pid into to join. */
  procsFile: string;
  oomKills(): number;
  /** Highest memory charged to the group, in bytes (NaN where the kernel does not say). */
  peakBytes(): number;
  remove(): void;
}

const ROOT = '/sys/fs/cgroup';

function counter(file: string, key: string): number {
  const match = new RegExp(`^${key} (\\d+)$`, 'm').exec(readFileSync(file, 'utf8'));
  return match === null ? 0 : Number(match[1]);
}

function numberIn(file: string): number {
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : NaN;
}

export function createMemoryCgroup(name: string, limitBytes: number): MemoryCgroup | { unavailable: string } {
  try {
    if (existsSync(join(ROOT, 'cgroup.controllers'))) {
      if (!readFileSync(join(ROOT, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('memory')) return { unavailable: 'cgroup v2 without the memory controller' };
      writeFileSync(join(ROOT, 'cgroup.subtree_control'), '+memory');
      const path = join(ROOT, name);
      mkdirSync(path);
      writeFileSync(join(path, 'memory.max'), String(limitBytes));
      if (existsSync(join(path, 'memory.swap.max'))) writeFileSync(join(path, 'memory.swap.max'), '0');
      return {
        procsFile: join(path, 'cgroup.procs'),
        oomKills: () => counter(join(path, 'memory.events'), 'oom_kill'),
        peakBytes: () => numberIn(join(path, 'memory.peak')),
        remove: () => rmdirSync(path),
      };
    }
    const v1 = join(ROOT, 'memory');
    if (!existsSync(join(v1, 'memory.limit_in_bytes'))) return { unavailable: `no memory cgroup under ${ROOT}` };
    const path = join(v1, name);
    mkdirSync(path);
    writeFileSync(join(path, 'memory.limit_in_bytes'), String(limitBytes));
    // Without swap accounting a process could page out instead of hitting the limit.
    if (existsSync(join(path, 'memory.memsw.limit_in_bytes'))) writeFileSync(join(path, 'memory.memsw.limit_in_bytes'), String(limitBytes));
    return {
      procsFile: join(path, 'cgroup.procs'),
      oomKills: () => counter(join(path, 'memory.oom_control'), 'oom_kill'),
      peakBytes: () => numberIn(join(path, 'memory.max_usage_in_bytes')),
      remove: () => rmdirSync(path),
    };
  } catch (error) {
    return { unavailable: `cannot create a memory cgroup: ${(error as Error).message}` };
  }
}

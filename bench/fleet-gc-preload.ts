/**
 * Loaded into the operator by the fleet bench only (`node --expose-gc --import …`): SIGUSR2 runs a
 * full garbage collection, so the heap the bench reads next is what the operator keeps alive, and
 * then writes what the process's memory is made of (process.memoryUsage, V8's heap spaces) to
 * FLEET_MEMORY_FILE, for the bench's breakdown of the RSS.
 */
import { writeFileSync } from 'node:fs';
import { getHeapCodeStatistics, getHeapSpaceStatistics } from 'node:v8';

process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
  const file = process.env['FLEET_MEMORY_FILE'];
  if (file === undefined) return;
  writeFileSync(file, JSON.stringify({ usage: process.memoryUsage(), spaces: getHeapSpaceStatistics(), code: getHeapCodeStatistics() }));
});

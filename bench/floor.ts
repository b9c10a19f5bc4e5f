/** Node's floor rows of the bench (bench/floor-proxy.ts): their names and how they are started. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A 1:1 pipe on `net` sockets: Node's own cost of proxying this load. */
export const FLOOR_PIPE = 'Node floor (net pipe)';
/** The same pipe, each direction framed by the sidecar's llhttp glue: what parsing adds. */
export const FLOOR_LLHTTP = 'Node floor (net pipe + llhttp)';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'floor-proxy.ts');

/** Node's arguments for a floor proxy on `port` in front of the app on `appPort`, with the sidecar's old-generation growth. */
export function floorArgs(port: number, appPort: number, llhttp: boolean, heapGrowingPercent: number): string[] {
  return [`--heap-growing-percent=${heapGrowingPercent}`, SCRIPT, String(port), String(appPort), ...(llhttp ? ['--llhttp'] : [])];
}

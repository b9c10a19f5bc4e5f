/**
 * `npm run cluster -- --kubeconfig FILE [--nodes N]`: a real control plane in the foreground. Writes
 * FILE (an admin kubeconfig) once the cluster is ready; SIGTERM or SIGINT stops every process it
 * started and removes their data and FILE. `npm run cluster -- --build-only` only builds the binaries;
 * `--parent-pid PID` stops the cluster when that process is gone (the test runs' own use).
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBinaries } from './binaries.js';
import { startControlPlane, type ControlPlane } from './control-plane.js';

function fail(message: string, code: number): never {
  process.stderr.write(`cluster: ${message}\n`);
  process.exit(code);
}

function options(): { kubeconfig?: string; nodes: number; buildOnly: boolean; parentPid?: number } {
  let parsed;
  try {
    parsed = parseArgs({
      options: { kubeconfig: { type: 'string' }, nodes: { type: 'string', default: '2' }, 'build-only': { type: 'boolean', default: false }, 'parent-pid': { type: 'string' } },
    });
  } catch (error) {
    fail((error as Error).message, 2);
  }
  const nodes = Number(parsed.values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 100) fail(`--nodes: expected a whole number from 1 to 100, got "${parsed.values.nodes}"`, 2);
  if (parsed.values.kubeconfig === '') fail('--kubeconfig: expected a file name, got an empty one', 2);
  if (!parsed.values['build-only'] && parsed.values.kubeconfig === undefined) fail('--kubeconfig FILE is required (where the admin kubeconfig is written)', 2);
  const parentPid = parsed.values['parent-pid'] === undefined ? undefined : Number(parsed.values['parent-pid']);
  if (parentPid !== undefined && !(Number.isInteger(parentPid) && parentPid > 0)) fail(`--parent-pid: expected a process id, got "${parsed.values['parent-pid']}"`, 2);
  return {
    ...(parsed.values.kubeconfig === undefined ? {} : { kubeconfig: resolve(parsed.values.kubeconfig) }),
    ...(parentPid === undefined ? {} : { parentPid }),
    nodes,
    buildOnly: parsed.values['build-only'],
  };
}

const started = Date.now();
const seconds = (): string => ((Date.now() - started) / 1000).toFixed(1);
const say = (line: string): void => { process.stdout.write(`cluster: ${line}\n`); };
const { kubeconfig, nodes, buildOnly, parentPid } = options();

const binaries = await ensureBinaries(say).catch((error: unknown) => fail((error as Error).message, 1));
if (buildOnly || kubeconfig === undefined) {
  say(`binaries ready in ${seconds()} s: ${binaries.kubeApiserver.replace(/\/[^/]+$/, '')}`);
  process.exit(0);
}

// Handled from here on, also while the control plane starts: a stop then ends the start, which
// stops what it had started (its processes are detached, so nothing else would).
const state: { stopCode?: number; running?: ControlPlane } = {};
const starting = new AbortController();

async function stopRunning(controlPlane: ControlPlane, code: number): Promise<never> {
  await controlPlane.stop();
  rmSync(kubeconfig as string, { force: true });
  say('stopped, data removed');
  process.exit(code);
}

function requestStop(code: number): void {
  if (state.stopCode !== undefined) return;
  state.stopCode = code;
  say('stopping…');
  if (state.running === undefined) starting.abort();
  else void stopRunning(state.running, code);
}

process.on('SIGTERM', () => requestStop(0));
process.on('SIGINT', () => requestStop(0));
if (parentPid !== undefined) {
  // Started for a test run (test/support/cluster.ts): never outlive it, even when it is killed.
  setInterval(() => {
    try {
      process.kill(parentPid, 0);
    } catch {
      requestStop(0);
    }
  }, 1000).unref();
}

let controlPlane: ControlPlane;
try {
  controlPlane = await startControlPlane({
    binaries,
    nodes,
    log: say,
    signal: starting.signal,
    // While it starts, the start itself fails with the message.
    onFailure: (message) => {
      if (state.running === undefined || state.stopCode !== undefined) return;
      process.stderr.write(`cluster: ${message}\n`);
      requestStop(1);
    },
  });
} catch (error) {
  if (state.stopCode === undefined) fail((error as Error).message, 1);
  say('stopped, data removed');
  process.exit(state.stopCode);
}
state.running = controlPlane;
if (state.stopCode !== undefined) await stopRunning(controlPlane, state.stopCode); // asked while the start was finishing

// Written whole under another name first: a reader polling for FILE never sees half of it.
writeFileSync(`${kubeconfig}.partial`, controlPlane.kubeconfigText, { mode: 0o600 });
renameSync(`${kubeconfig}.partial`, kubeconfig);
say(`ready in ${seconds()} s: ${controlPlane.url}, ${nodes} kwok nodes; kubeconfig ${kubeconfig}`);
say('SIGTERM or Ctrl-C stops it and removes its data');

/**
 * Reads the sidecar configuration file (JSON or YAML, as the operator renders it into a ConfigMap).
 * A missing file means defaults: the ConfigMap volume is optional, so a Deployment without a
 * policy still gets a working sidecar.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { SidecarConfig } from '../api/schema.js';
import { validateSidecarConfig } from '../api/validate.js';

export type ConfigLoad =
  | { ok: true; config: Readonly<SidecarConfig>; source: 'file' | 'defaults' }
  | { ok: false; problems: string[] };

/** Largest config file read; a rendered policy is a few KiB, pages included. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export async function loadConfigFile(path: string | undefined): Promise<ConfigLoad> {
  if (path === undefined) return fromInput({}, 'defaults');
  let text: string;
  try {
    const data = await readFile(path);
    if (data.length > MAX_CONFIG_BYTES) return { ok: false, problems: [`${path}: larger than ${MAX_CONFIG_BYTES} bytes`] };
    text = data.toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fromInput({}, 'defaults');
    return { ok: false, problems: [`${path}: ${(error as Error).message}`] };
  }
  let input: unknown;
  try {
    input = text.trim() === '' ? {} : parseYaml(text); // YAML is a superset of JSON
  } catch (error) {
    return { ok: false, problems: [`${path}: not valid JSON or YAML: ${(error as Error).message.split('\n')[0]}`] };
  }
  const result = fromInput(input, 'file');
  return result.ok ? result : { ok: false, problems: result.problems.map((problem) => `${path}: ${problem}`) };
}

function fromInput(input: unknown, source: 'file' | 'defaults'): ConfigLoad {
  const result = validateSidecarConfig(input ?? {});
  return result.ok ? { ok: true, config: result.value, source } : { ok: false, problems: result.problems };
}

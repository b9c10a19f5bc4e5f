/**
 * Reads and parses the sidecar configuration file (JSON or YAML, as the operator renders it into a
 * ConfigMap), at start-up and on every reload alike. A missing file means defaults: the ConfigMap
 * volume is optional, so a Deployment without a policy still gets a working sidecar.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { SidecarConfig } from '../api/schema.js';
import { validateSidecarConfig } from '../api/validate.js';
import { yamlProblem } from '../api/yaml-problem.js';

export type ParsedConfig =
  | { ok: true; config: Readonly<SidecarConfig> }
  | { ok: false; problems: string[] };

export type ConfigLoad =
  | { ok: true; config: Readonly<SidecarConfig>; source: 'file' | 'defaults'; text: string | undefined }
  | { ok: false; problems: string[] };

const requireCommonJs = createRequire(import.meta.url);

/**
 * JSON (what the operator renders) is parsed natively; the YAML parser is loaded only for text
 * that is not JSON, which keeps it off the sidecar's start-up path.
 */
function parseJsonOrYaml(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const { parse } = requireCommonJs('yaml') as typeof import('yaml');
    return parse(text); // YAML is a superset of JSON, so its error messages cover both
  }
}

/** Largest config file read; a rendered policy is a few KiB, pages included. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** The file's text; undefined when it does not exist (optional volume, or the key removed). */
export async function readConfigText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Parses and validates a config text; no text, or a blank one, means defaults. */
export function parseConfigText(text: string | undefined): ParsedConfig {
  if (text !== undefined && Buffer.byteLength(text) > MAX_CONFIG_BYTES) return { ok: false, problems: [`larger than ${MAX_CONFIG_BYTES} bytes`] };
  let input: unknown = {};
  if (text !== undefined && text.trim() !== '') {
    try {
      input = parseJsonOrYaml(text);
    } catch (error) {
      return { ok: false, problems: [`not valid JSON or YAML: ${yamlProblem((error as Error).message)}`] };
    }
  }
  const result = validateSidecarConfig(input ?? {});
  return result.ok ? { ok: true, config: result.value } : { ok: false, problems: result.problems };
}

export async function loadConfigFile(path: string | undefined): Promise<ConfigLoad> {
  let text: string | undefined;
  if (path !== undefined) {
    try {
      text = await readConfigText(path);
    } catch (error) {
      return { ok: false, problems: [`${path}: ${(error as Error).message}`] };
    }
  }
  const result = parseConfigText(text);
  if (!result.ok) return { ok: false, problems: result.problems.map((problem) => `${path}: ${problem}`) };
  return { ok: true, config: result.config, source: text === undefined ? 'defaults' : 'file', text };
}

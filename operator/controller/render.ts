/**
 * Turns a validated policy spec into the sidecar's policy.json: targeting dropped, configMapRef
 * pages read from the given ConfigMaps and inlined. Problems name the field; nothing is thrown.
 */
import { createHash } from 'node:crypto';
import { MAX_ERROR_PAGE_BYTES, type PolicySpec, type ResolvedErrorPage } from '../../api/schema.js';
import { validatePolicySpec, validateSidecarConfig } from '../../api/validate.js';
import { stableStringify } from './conditions.js';

export type ConfigMapData = (namespace: string, name: string) => Readonly<Record<string, string>> | undefined;

export type RenderFailureReason = 'InvalidSpec' | 'PageNotFound' | 'PageTooLarge';

export type RenderResult =
  | { ok: true; json: string; hash: string; referencedConfigMaps: string[] }
  | { ok: false; reason: RenderFailureReason; message: string; referencedConfigMaps: string[] };

export function renderPolicy(rawSpec: unknown, namespace: string, readConfigMap: ConfigMapData): RenderResult {
  const referencedConfigMaps = referencedConfigMapNames(rawSpec);
  const validation = validatePolicySpec(rawSpec ?? {});
  if (!validation.ok) return { ok: false, reason: 'InvalidSpec', message: validation.problems.join('; '), referencedConfigMaps };
  const spec: PolicySpec = validation.value;
  const pages: ResolvedErrorPage[] = [];
  for (const [index, page] of spec.errorPages.entries()) {
    const field = `spec.errorPages[${index}]`;
    let body = page.body;
    if (page.configMapRef !== undefined) {
      const data = readConfigMap(namespace, page.configMapRef.name);
      body = data?.[page.configMapRef.key];
      if (body === undefined) {
        const missing = data === undefined ? `ConfigMap ${page.configMapRef.name} not found` : `key ${page.configMapRef.key} not found in ConfigMap ${page.configMapRef.name}`;
        const fix = `create ConfigMap ${page.configMapRef.name} with key ${page.configMapRef.key} in namespace ${namespace}, or fix the reference`;
        return { ok: false, reason: 'PageNotFound', message: `${field}.configMapRef: ${missing}; ${fix}`, referencedConfigMaps };
      }
    }
    const bytes = Buffer.byteLength(body ?? '', 'utf8');
    if (bytes > MAX_ERROR_PAGE_BYTES) {
      return { ok: false, reason: 'PageTooLarge', message: `${field}: page is ${bytes} bytes, the limit is ${MAX_ERROR_PAGE_BYTES}; shorten it`, referencedConfigMaps };
    }
    pages.push({ status: page.status, contentType: page.contentType, body: body ?? '' });
  }
  const { targetRef: _targetRef, selector: _selector, errorPages: _errorPages, ...behaviour } = spec;
  const config = validateSidecarConfig({ ...behaviour, errorPages: pages });
  if (!config.ok) return { ok: false, reason: 'InvalidSpec', message: config.problems.join('; '), referencedConfigMaps };
  const json = `${JSON.stringify(JSON.parse(stableStringify(config.value)), null, 2)}\n`;
  return { ok: true, json, hash: contentHash(json), referencedConfigMaps };
}

export function contentHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** ConfigMap names a spec refers to, read leniently so even an invalid spec re-reconciles on their change. */
export function referencedConfigMapNames(rawSpec: unknown): string[] {
  const pages = (rawSpec as { errorPages?: unknown } | undefined)?.errorPages;
  if (!Array.isArray(pages)) return [];
  const names = pages
    .map((page) => (page as { configMapRef?: { name?: unknown } } | null)?.configMapRef?.name)
    .filter((name): name is string => typeof name === 'string');
  return [...new Set(names)];
}

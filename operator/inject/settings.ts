/** What the operator (chart values, flags) decides about every injected sidecar. */
export interface InjectionSettings {
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  resources: { requests: { cpu: string; memory: string }; limits: { cpu?: string; memory: string } };
  /** Default app preStop delay; `badgateway.io/drain-delay` overrides it per Deployment. */
  drainDelay: string;
  logLevel?: string;
  /** Numeric UID/GID the sidecar runs as. */
  runAsUser?: number;
  /** Add prometheus.io/scrape|port|path to injected pod templates (default true). */
  scrapeAnnotations?: boolean;
}

export const DEFAULT_SIDECAR_IMAGE = 'ghcr.io/badgateway/badgateway:0.1.0';

export const DEFAULT_INJECTION_SETTINGS: Readonly<InjectionSettings> = Object.freeze({
  image: DEFAULT_SIDECAR_IMAGE,
  imagePullPolicy: 'IfNotPresent',
  resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '256Mi' } },
  drainDelay: '5s',
  runAsUser: 65532,
});

/** "v1.29.3", "v1.28.3-gke.100", "1.30+" → minor version; native sidecars need 1.29. */
export function minorVersion(version: string): { major: number; minor: number } {
  const match = /^v?(\d+)\.(\d+)/.exec(version.trim());
  if (match === null) throw new Error(`${JSON.stringify(version)} is not a Kubernetes version (e.g. v1.30.0)`);
  return { major: Number(match[1]), minor: Number(match[2]) };
}

export function supportsNativeSidecars(version: string): boolean {
  const { major, minor } = minorVersion(version);
  return major > 1 || minor >= 29;
}

/** What `badgateway inject` assumes without a cluster to ask. */
export const CURRENT_KUBE_VERSION = 'v1.35.0';

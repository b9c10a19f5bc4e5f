/** Every user-visible name from the design, in one place. */

export const API_GROUP = 'badgateway.io';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;
export const POLICY_KIND = 'BadGatewayPolicy';
export const POLICY_LIST_KIND = 'BadGatewayPolicyList';
export const POLICY_PLURAL = 'badgatewaypolicies';
export const POLICY_SINGULAR = 'badgatewaypolicy';
export const POLICY_SHORT_NAME = 'bgwp';
export const CRD_NAME = `${POLICY_PLURAL}.${API_GROUP}`;

export const ANNOTATIONS = {
  inject: 'badgateway.io/inject',
  port: 'badgateway.io/port',
  appProtocol: 'badgateway.io/app-protocol',
  policy: 'badgateway.io/policy',
  policyHash: 'badgateway.io/policy-hash',
  drainDelay: 'badgateway.io/drain-delay',
  cpu: 'badgateway.io/cpu',
  memory: 'badgateway.io/memory',
  injected: 'badgateway.io/injected',
} as const;

/** Labels injection puts on the pod template, so metrics can be grouped by Deployment and policy. */
export const POD_LABELS = {
  deployment: 'badgateway.io/deployment',
  policy: 'badgateway.io/policy',
} as const;

/** The conventional scrape annotations (Prometheus' kubernetes-pods job), set on injected pod templates. */
export const SCRAPE_ANNOTATIONS = {
  scrape: 'prometheus.io/scrape',
  port: 'prometheus.io/port',
  path: 'prometheus.io/path',
} as const;

export const SIDECAR_CONTAINER_NAME = 'badgateway';
export const SIDECAR_PROXY_PORT = 8502;
export const SIDECAR_ADMIN_PORT = 8503;
export const OPERATOR_WEBHOOK_PORT = 9443;
export const OPERATOR_HTTP_PORT = 8080;

/** ConfigMap the operator renders for a policy, and its key. */
export const CONFIG_MAP_PREFIX = 'badgateway-';
export const CONFIG_KEY = 'policy.json';
export const CONFIG_MOUNT_PATH = '/etc/badgateway';

export function configMapNameFor(policyName: string): string {
  return `${CONFIG_MAP_PREFIX}${policyName}`;
}

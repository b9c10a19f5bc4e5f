/* eslint-disable @typescript-eslint/no-explicit-any -- arbitrary Kubernetes JSON is walked by path here */
/** The resource types the test API server serves: the built-ins this project uses, plus CRDs. */

export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  /** Whether `/status` is a subresource (then status is ignored on the main resource). */
  statusSubresource: boolean;
  /** A CRD's openAPIV3Schema, for validation and defaulting. */
  schema?: Record<string, unknown>;
  /** Discovery categories, e.g. `all` for `kubectl get all`. */
  categories?: string[];
  /** A CRD version's additionalPrinterColumns, for `kubectl get` tables. */
  printerColumns?: PrinterColumn[];
}

export interface PrinterColumn { name: string; type: string; jsonPath: string; format?: string; description?: string; priority?: number }

/** `kubectl get all`, as on the real server (of the kinds served here). */
const IN_CATEGORY_ALL = new Set(['pods', 'services', 'deployments']);

function builtin(group: string, version: string, kind: string, plural: string, namespaced: boolean, shortNames: string[] = [], statusSubresource = false): ResourceType {
  const categories = IN_CATEGORY_ALL.has(plural) ? ['all'] : [];
  return { group, version, plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List`, namespaced, shortNames, statusSubresource, categories };
}

export const BUILTIN_RESOURCES: ResourceType[] = [
  builtin('', 'v1', 'Namespace', 'namespaces', false, ['ns'], true),
  builtin('', 'v1', 'Pod', 'pods', true, ['po'], true),
  builtin('', 'v1', 'Service', 'services', true, ['svc'], true),
  builtin('', 'v1', 'ConfigMap', 'configmaps', true, ['cm']),
  builtin('', 'v1', 'Secret', 'secrets', true),
  builtin('', 'v1', 'Event', 'events', true, ['ev']),
  builtin('', 'v1', 'ServiceAccount', 'serviceaccounts', true, ['sa']),
  builtin('apps', 'v1', 'Deployment', 'deployments', true, ['deploy'], true),
  // Empty unless a test writes some; Helm's --wait (kstatus) lists a Deployment's ReplicaSets.
  builtin('apps', 'v1', 'ReplicaSet', 'replicasets', true, ['rs'], true),
  builtin('coordination.k8s.io', 'v1', 'Lease', 'leases', true),
  builtin('admissionregistration.k8s.io', 'v1', 'MutatingWebhookConfiguration', 'mutatingwebhookconfigurations', false),
  builtin('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false, ['crd', 'crds'], true),
  builtin('events.k8s.io', 'v1', 'Event', 'events', true, ['ev']),
  // What the Helm chart renders besides the above.
  builtin('rbac.authorization.k8s.io', 'v1', 'Role', 'roles', true),
  builtin('rbac.authorization.k8s.io', 'v1', 'RoleBinding', 'rolebindings', true),
  builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRole', 'clusterroles', false),
  builtin('rbac.authorization.k8s.io', 'v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  builtin('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets', true, ['pdb'], true),
];

export function groupVersion(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

/** A CRD object → the resource types it serves (one per served version). */
export function resourcesFromCrd(crd: Record<string, any>): ResourceType[] {
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  return (spec.versions ?? []).filter((version: Record<string, unknown>) => version.served !== false).map((version: Record<string, any>) => ({
    group: spec.group,
    version: version.name,
    plural: names.plural,
    singular: names.singular ?? String(names.kind).toLowerCase(),
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
    namespaced: spec.scope !== 'Cluster',
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    statusSubresource: version.subresources?.status !== undefined,
    schema: version.schema?.openAPIV3Schema,
    printerColumns: version.additionalPrinterColumns,
  }));
}

/* eslint-disable @typescript-eslint/no-explicit-any -- arbitrary Kubernetes JSON is walked by path here */
/**
 * The columns of `kubectl get` tables, computed on the server as kube-apiserver does: the familiar
 * columns of the built-in kinds (a cheap subset), and for custom resources the CRD version's
 * `additionalPrinterColumns` evaluated with simple JSONPath.
 */
import type { ResourceType } from './resources.js';

export interface ColumnDefinition { name: string; type: string; format: string; description: string; priority: number }
export interface Column { definition: ColumnDefinition; cell(object: any, now: Date): unknown }

/** k8s.io/apimachinery/pkg/util/duration.HumanDuration, the AGE format kubectl users know. */
export function humanDuration(milliseconds: number): string {
  const seconds = Math.trunc(milliseconds / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${hours / 24}d` : `${Math.trunc(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${days / 365}y` : `${Math.trunc(days / 365)}y${days % 365}d`;
  return `${Math.trunc(days / 365)}y`;
}

function age(timestamp: unknown, now: Date): string {
  const time = typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
  return Number.isNaN(time) ? '<unknown>' : humanDuration(now.getTime() - time);
}

const definition = (name: string, type = 'string', description = '', priority = 0, format = ''): ColumnDefinition => ({ name, type, format, description, priority });
const column = (name: string, cell: Column['cell'], type = 'string', priority = 0): Column => ({ definition: definition(name, type, '', priority), cell });
const NAME: Column = { definition: definition('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'), cell: (object) => object.metadata?.name ?? '' };
const AGE = column('Age', (object, now) => age(object.metadata?.creationTimestamp, now));
const CREATED_AT = column('Created At', (object) => object.metadata?.creationTimestamp ?? '', 'date');
const count = (value: unknown) => (Array.isArray(value) ? value.length : Object.keys(value ?? {}).length);

function servicePorts(ports: any[] | undefined): string {
  if (ports === undefined || ports.length === 0) return '<none>';
  return ports.map((port) => `${port.port}${port.nodePort === undefined ? '' : `:${port.nodePort}`}/${port.protocol ?? 'TCP'}`).join(',');
}

const BUILTIN_COLUMNS: Record<string, Column[]> = {
  '/Namespace': [NAME, column('Status', (object) => object.status?.phase ?? 'Active'), AGE],
  '/Pod': [
    NAME,
    column('Ready', (object) => `${(object.status?.containerStatuses ?? []).filter((status: any) => status.ready === true).length}/${(object.spec?.containers ?? []).length}`),
    column('Status', (object) => (object.metadata?.deletionTimestamp === undefined ? object.status?.phase ?? 'Pending' : 'Terminating')),
    column('Restarts', (object) => (object.status?.containerStatuses ?? []).reduce((sum: number, status: any) => sum + Number(status.restartCount ?? 0), 0), 'string'),
    AGE,
    column('IP', (object) => object.status?.podIP ?? '<none>', 'string', 1),
    column('Node', (object) => object.spec?.nodeName ?? '<none>', 'string', 1),
  ],
  '/Service': [
    NAME,
    column('Type', (object) => object.spec?.type ?? 'ClusterIP'),
    column('Cluster-IP', (object) => object.spec?.clusterIP ?? '<none>'),
    column('External-IP', (object) => (object.spec?.externalIPs ?? []).join(',') || '<none>'),
    column('Port(s)', (object) => servicePorts(object.spec?.ports)),
    AGE,
    column('Selector', (object) => Object.entries(object.spec?.selector ?? {}).map(([key, value]) => `${key}=${String(value)}`).join(',') || '<none>', 'string', 1),
  ],
  '/ConfigMap': [NAME, column('Data', (object) => count(object.data) + count(object.binaryData), 'integer'), AGE],
  '/Secret': [NAME, column('Type', (object) => object.type ?? 'Opaque'), column('Data', (object) => count(object.data), 'integer'), AGE],
  '/ServiceAccount': [NAME, column('Secrets', (object) => count(object.secrets), 'integer'), AGE],
  'apps/Deployment': [
    NAME,
    column('Ready', (object) => `${object.status?.readyReplicas ?? 0}/${object.spec?.replicas ?? 1}`),
    column('Up-to-date', (object) => object.status?.updatedReplicas ?? 0, 'integer'),
    column('Available', (object) => object.status?.availableReplicas ?? 0, 'integer'),
    AGE,
    column('Containers', (object) => (object.spec?.template?.spec?.containers ?? []).map((container: any) => container.name).join(','), 'string', 1),
    column('Images', (object) => (object.spec?.template?.spec?.containers ?? []).map((container: any) => container.image).join(','), 'string', 1),
  ],
  'coordination.k8s.io/Lease': [NAME, column('Holder', (object) => object.spec?.holderIdentity ?? ''), AGE],
  'admissionregistration.k8s.io/MutatingWebhookConfiguration': [NAME, column('Webhooks', (object) => count(object.webhooks), 'integer'), AGE],
  'apiextensions.k8s.io/CustomResourceDefinition': [NAME, CREATED_AT],
  'rbac.authorization.k8s.io/Role': [NAME, CREATED_AT],
  'rbac.authorization.k8s.io/ClusterRole': [NAME, CREATED_AT],
  'rbac.authorization.k8s.io/RoleBinding': [NAME, column('Role', (object) => `${object.roleRef?.kind ?? ''}/${object.roleRef?.name ?? ''}`), AGE],
  'rbac.authorization.k8s.io/ClusterRoleBinding': [NAME, column('Role', (object) => `${object.roleRef?.kind ?? ''}/${object.roleRef?.name ?? ''}`), AGE],
  'policy/PodDisruptionBudget': [
    NAME,
    column('Min Available', (object) => String(object.spec?.minAvailable ?? 'N/A')),
    column('Max Unavailable', (object) => String(object.spec?.maxUnavailable ?? 'N/A')),
    column('Allowed Disruptions', (object) => object.status?.disruptionsAllowed ?? 0, 'integer'),
    AGE,
  ],
};

const EVENT_COLUMNS: Column[] = [
  column('Last Seen', (object, now) => age(object.lastTimestamp ?? object.deprecatedLastTimestamp ?? object.eventTime ?? object.metadata?.creationTimestamp, now)),
  column('Type', (object) => object.type ?? ''),
  column('Reason', (object) => object.reason ?? ''),
  column('Object', (object) => {
    const regarding = object.involvedObject ?? object.regarding ?? {};
    return `${String(regarding.kind ?? '').toLowerCase()}/${regarding.name ?? ''}`;
  }),
  column('Message', (object) => object.message ?? object.note ?? ''),
];
BUILTIN_COLUMNS['/Event'] = EVENT_COLUMNS;
BUILTIN_COLUMNS['events.k8s.io/Event'] = EVENT_COLUMNS;

/**
 * Simple JSONPath, as CRD printer columns allow: `.a.b`, `[n]`, `[*]` and `[?(@.key=="value")]`.
 * Returns every match (none when the path is absent).
 */
export function jsonPathValues(path: string, root: unknown): unknown[] {
  const tokens = path.replace(/^\{|\}$/g, '').match(/\.[^.[\]]+|\[\?\(@\.[\w.-]+\s*==\s*(?:"[^"]*"|'[^']*')\)\]|\[\*\]|\[\d+\]/g) ?? [];
  let current: unknown[] = [root];
  for (const token of tokens) {
    const next: unknown[] = [];
    for (const value of current) {
      if (token.startsWith('.')) {
        if (value !== null && typeof value === 'object' && !Array.isArray(value) && token.slice(1) in value) next.push((value as any)[token.slice(1)]);
      } else if (!Array.isArray(value)) {
        continue;
      } else if (token === '[*]') {
        next.push(...value);
      } else if (token.startsWith('[?')) {
        const [, key, quoted] = /^\[\?\(@\.([\w.-]+)\s*==\s*(.*)\)\]$/.exec(token) as unknown as [string, string, string];
        const wanted = quoted.slice(1, -1);
        next.push(...value.filter((item) => jsonPathValues(`.${key}`, item).some((found) => String(found) === wanted)));
      } else {
        const item = value[Number(token.slice(1, -1))];
        if (item !== undefined) next.push(item);
      }
    }
    current = next;
  }
  return current;
}

function customColumn(printer: { name: string; type: string; format?: string; description?: string; priority?: number; jsonPath: string }): Column {
  return {
    definition: definition(printer.name, printer.type, printer.description ?? '', printer.priority ?? 0, printer.format ?? ''),
    cell: (object, now) => {
      const values = jsonPathValues(printer.jsonPath, object);
      if (values.length === 0) return null;
      if (printer.type === 'date') return age(values[0], now);
      if (printer.type === 'string') return values.map((value) => (typeof value === 'object' ? JSON.stringify(value) : String(value))).join(',');
      return values[0];
    },
  };
}

/** The columns for a type: its printer columns for custom resources, NAME/AGE where nothing better is known. */
export function columnsFor(type: ResourceType): Column[] {
  if (type.printerColumns !== undefined && type.printerColumns.length > 0) return [NAME, ...type.printerColumns.map(customColumn)];
  return BUILTIN_COLUMNS[`${type.group}/${type.kind}`] ?? [NAME, AGE];
}

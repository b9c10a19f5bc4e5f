/* eslint-disable @typescript-eslint/no-explicit-any -- arbitrary Kubernetes JSON is walked by path here */
/**
 * Server-side printing: when a GET asks for `application/json;as=Table;g=meta.k8s.io;v=v1` (as
 * `kubectl get` does), the object or list is answered as a meta.k8s.io/v1 `Table` whose rows carry
 * the cells and, by default, the object's metadata (`includeObject=Metadata`).
 */
import type { IncomingMessage } from 'node:http';
import { columnsFor } from './printer-columns.js';
import type { ResourceType } from './resources.js';

type Result = { code: number; body: unknown } | undefined;

function wantsTable(req: IncomingMessage): boolean {
  return String(req.headers.accept ?? '').split(',').some((mediaType) => {
    const parameters = mediaType.split(';').map((part) => part.trim());
    return parameters.includes('as=Table') && parameters.includes('g=meta.k8s.io') && (parameters.includes('v=v1') || parameters.includes('v=v1beta1'));
  });
}

function rowObject(object: any, include: string): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return object;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

function table(req: IncomingMessage, url: URL, type: ResourceType, objects: any[], resourceVersion: string): unknown {
  const columns = columnsFor(type);
  const include = url.searchParams.get('includeObject') ?? 'Metadata';
  const now = new Date();
  const version = /(?:^|[;,]\s*)v=(v1beta1|v1)\b/.exec(String(req.headers.accept))?.[1] ?? 'v1';
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: { resourceVersion },
    columnDefinitions: columns.map((column) => column.definition),
    rows: objects.map((object) => ({ cells: columns.map((column) => column.cell(object, now)), object: rowObject(object, include) })),
  };
}

/** The same GET result as a Table when the client asked for one; anything else passes unchanged. */
export function tableIfRequested(req: IncomingMessage, url: URL, type: ResourceType, result: Result): Result {
  if (req.method !== 'GET' || result === undefined || result.code !== 200 || !wantsTable(req)) return result;
  const body = result.body as any;
  return { code: 200, body: table(req, url, type, Array.isArray(body.items) ? body.items : [body], body.metadata?.resourceVersion ?? '') };
}

/** For watches (`kubectl get -w`): each event's object as a one-row Table when the client asked for tables. */
export function watchEventPresenter(req: IncomingMessage, url: URL, type: ResourceType): (object: any) => unknown {
  if (!wantsTable(req)) return (object) => object;
  return (object) => table(req, url, type, [object], object.metadata?.resourceVersion ?? '');
}

/**
 * Watches: chunked JSON lines from a resourceVersion (history replayed, 410 as an ERROR event when
 * it is too old), bookmarks, watch-list initial events, selector transitions, `timeoutSeconds`.
 */
import type { ServerResponse } from 'node:http';
import { groupVersion, type ResourceType } from './resources.js';
import type { ApiError } from './status.js';
import type { KubeObject, Store, WatchEvent } from './store.js';
import { watchEventPresenter } from './table.js';

export function serveWatch(store: Store, watches: Set<ServerResponse>, res: ServerResponse, url: URL, type: ResourceType, namespace: string | undefined, matches: (object: KubeObject) => boolean): void {
  const from = url.searchParams.get('resourceVersion');
  const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true';
  const write = (line: unknown) => res.write(`${JSON.stringify(line)}\n`);
  const present = watchEventPresenter(res.req, url, type); // `kubectl get -w` asks for Table rows
  // The head goes first: replayed history is written synchronously by store.watch, and an
  // expired resourceVersion is an ERROR event in a 200 stream, as kube-apiserver does it.
  res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
  res.flushHeaders(); // clients wait for the head before they consider the watch established
  let stop: () => void;
  try {
    stop = store.watch(from === null || from === '' || from === '0' ? undefined : Number(from), (event) =>
      event.type_ === type && (namespace === undefined || event.object.metadata.namespace === namespace),
    (event) => {
      const seenAs = selectedEventType(event, matches);
      if (seenAs !== undefined) write({ type: seenAs, object: present(withKind(type, event.object)) });
    });
  } catch (error) {
    write({ type: 'ERROR', object: (error as ApiError).toStatus() });
    res.end();
    return;
  }
  // Watch-list (client-go's WatchListClient, e.g. kubectl wait): the current objects, then a bookmark marking their end.
  const initialEvents = url.searchParams.get('sendInitialEvents') === 'true';
  if (initialEvents) for (const object of store.list(type, namespace).filter(matches)) write({ type: 'ADDED', object: present(withKind(type, object)) });
  const initialEventsEnd = initialEvents ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {};
  if (bookmarks) write({ type: 'BOOKMARK', object: { kind: type.kind, apiVersion: groupVersion(type), metadata: { resourceVersion: String(store.currentRevision()), ...initialEventsEnd } } });
  watches.add(res);
  const timeout = Number(url.searchParams.get('timeoutSeconds') ?? 0);
  const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
  timer?.unref();
  res.on('close', () => {
    stop();
    if (timer !== undefined) clearTimeout(timer);
    watches.delete(res);
  });
}

/**
 * What a selector-filtered watch reports, as kube-apiserver does: an object modified into the
 * selection is ADDED, one modified out of it is DELETED.
 */
function selectedEventType(event: WatchEvent, matches: (object: KubeObject) => boolean): WatchEvent['type'] | undefined {
  const now = matches(event.object);
  if (event.type !== 'MODIFIED') return now ? event.type : undefined;
  const before = event.previous === undefined ? now : matches(event.previous);
  if (now) return before ? 'MODIFIED' : 'ADDED';
  return before ? 'DELETED' : undefined;
}

function withKind(type: ResourceType, object: KubeObject): KubeObject {
  return { ...object, apiVersion: groupVersion(type), kind: type.kind };
}

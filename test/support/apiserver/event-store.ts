/* eslint-disable @typescript-eslint/no-explicit-any -- Event objects are walked as untyped JSON here */
/**
 * One store for Events served through both APIs, as kube-apiserver keeps them: an
 * events.k8s.io/v1 Event is stored as the core/v1 Event it converts to, so what the operator
 * records through events.k8s.io shows in `kubectl describe` and `kubectl get events` (core/v1),
 * and the reverse. Field names follow the real conversion: regarding ↔ involvedObject,
 * note ↔ message, reportingController ↔ reportingComponent, deprecated* ↔ source/count/timestamps.
 */
import { BUILTIN_RESOURCES, type ResourceType } from './resources.js';
import { Store, type KubeObject, type WatchEvent } from './store.js';

const eventsV1 = BUILTIN_RESOURCES.find((type) => type.group === 'events.k8s.io' && type.plural === 'events') as ResourceType;
const coreEvents = BUILTIN_RESOURCES.find((type) => type.group === '' && type.plural === 'events') as ResourceType;

const defined = (object: Record<string, unknown>): any => Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));

export function toCoreEvent(event: KubeObject): KubeObject {
  const source = event.deprecatedSource ?? (event.reportingController === undefined ? undefined : defined({ component: event.reportingController, host: event.reportingInstance }));
  return defined({
    apiVersion: 'v1', kind: 'Event', metadata: event.metadata, involvedObject: event.regarding, related: event.related,
    reason: event.reason, message: event.note, type: event.type, action: event.action, eventTime: event.eventTime, series: event.series,
    reportingComponent: event.reportingController, reportingInstance: event.reportingInstance, source,
    firstTimestamp: event.deprecatedFirstTimestamp, lastTimestamp: event.deprecatedLastTimestamp, count: event.deprecatedCount,
  });
}

export function toEventsV1(event: KubeObject): KubeObject {
  return defined({
    apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: event.metadata, regarding: event.involvedObject, related: event.related,
    reason: event.reason, note: event.message, type: event.type, action: event.action, eventTime: event.eventTime, series: event.series,
    reportingController: event.reportingComponent ?? event.source?.component, reportingInstance: event.reportingInstance ?? event.source?.host,
    deprecatedSource: event.source, deprecatedFirstTimestamp: event.firstTimestamp, deprecatedLastTimestamp: event.lastTimestamp, deprecatedCount: event.count,
  });
}

const isEventsV1 = (type: ResourceType): boolean => type.group === eventsV1.group && type.plural === eventsV1.plural;

export class OneEventStore extends Store {
  override list(type: ResourceType, namespace?: string): KubeObject[] {
    return isEventsV1(type) ? super.list(coreEvents, namespace).map(toEventsV1) : super.list(type, namespace);
  }

  override get(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    return isEventsV1(type) ? toEventsV1(super.get(coreEvents, namespace, name)) : super.get(type, namespace, name);
  }

  override find(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    if (!isEventsV1(type)) return super.find(type, namespace, name);
    const found = super.find(coreEvents, namespace, name);
    return found === undefined ? undefined : toEventsV1(found);
  }

  override create(type: ResourceType, namespace: string | undefined, input: KubeObject): KubeObject {
    return isEventsV1(type) ? toEventsV1(super.create(coreEvents, namespace, toCoreEvent(input))) : super.create(type, namespace, input);
  }

  override update(type: ResourceType, namespace: string | undefined, name: string, input: KubeObject, part: 'main' | 'status'): KubeObject {
    return isEventsV1(type) ? toEventsV1(super.update(coreEvents, namespace, name, toCoreEvent(input), part)) : super.update(type, namespace, name, input, part);
  }

  override delete(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    return isEventsV1(type) ? toEventsV1(super.delete(coreEvents, namespace, name)) : super.delete(type, namespace, name);
  }

  /** A core Event change is seen by watchers of either API, each in its own shape. */
  override watch(fromRevision: number | undefined, matches: (event: WatchEvent) => boolean, send: (event: WatchEvent) => void): () => void {
    const asEventsV1 = (event: WatchEvent): WatchEvent => ({
      ...event, type_: eventsV1, object: toEventsV1(event.object), ...(event.previous === undefined ? {} : { previous: toEventsV1(event.previous) }),
    });
    return super.watch(fromRevision, (event) => matches(event) || (event.type_ === coreEvents && matches(asEventsV1(event))), (event) => {
      if (matches(event)) send(event);
      if (event.type_ === coreEvents && matches(asEventsV1(event))) send(asEventsV1(event));
    });
  }
}

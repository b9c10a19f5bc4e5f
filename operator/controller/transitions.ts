/**
 * Which Events a status change deserves. Pure: the events come from comparing the status the API
 * server held with the one just written, so an unchanged resync never produces an Event.
 */
import { CONDITION_TYPES, type Condition, type PolicyStatus } from '../../api/status.js';
import type { EventType } from './events.js';

export interface TransitionEvent {
  type: EventType;
  reason: string;
  note: string;
}

const conditionOf = (status: PolicyStatus | undefined, type: string): Condition | undefined =>
  status?.conditions?.find((condition) => condition.type === type);

/** True when the condition newly has `value`, or keeps it with a different message. */
function became(before: PolicyStatus | undefined, after: PolicyStatus, type: string, value: 'True' | 'False'): Condition | undefined {
  const now = conditionOf(after, type);
  if (now?.status !== value) return undefined;
  const then = conditionOf(before, type);
  return then?.status !== value || then.message !== now.message ? now : undefined;
}

export function statusTransitionEvents(before: PolicyStatus | undefined, after: PolicyStatus): TransitionEvent[] {
  const events: TransitionEvent[] = [];
  const rejected = became(before, after, CONDITION_TYPES.accepted, 'False');
  if (rejected !== undefined) events.push({ type: 'Warning', reason: rejected.reason, note: rejected.message });
  if (conditionOf(after, CONDITION_TYPES.accepted)?.status === 'True' && conditionOf(before, CONDITION_TYPES.accepted)?.status !== 'True') {
    events.push({ type: 'Normal', reason: 'Accepted', note: 'The policy is valid' });
  }

  const conflicted = became(before, after, CONDITION_TYPES.conflicted, 'True');
  if (conflicted !== undefined) events.push({ type: 'Warning', reason: 'Conflicted', note: conflicted.message });

  const wasInjected = new Set((before?.targets ?? []).filter((target) => target.injected).map((target) => `${target.kind}/${target.name}`));
  for (const target of after.targets ?? []) {
    if (target.injected && !wasInjected.has(`${target.kind}/${target.name}`)) {
      events.push({ type: 'Normal', reason: 'TargetInjected', note: `${target.kind} ${target.name} runs the badgateway sidecar` });
    }
  }

  const bypassedBefore = new Set((before?.bypassingServices ?? []).map((service) => `${service.name}:${service.port}`));
  for (const service of after.bypassingServices ?? []) {
    if (!bypassedBefore.has(`${service.name}:${service.port}`)) {
      events.push({ type: 'Warning', reason: 'BypassDetected', note: service.message ?? `Service ${service.name} bypasses the sidecar` });
    }
  }
  if (bypassedBefore.size > 0 && (after.bypassingServices ?? []).length === 0) {
    events.push({ type: 'Normal', reason: 'BypassResolved', note: 'No Service bypasses the badgateway sidecar any more' });
  }
  return events;
}

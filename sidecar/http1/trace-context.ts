/**
 * The trace id of a W3C Trace Context `traceparent` header (https://www.w3.org/TR/trace-context/),
 * validated as the spec says a receiver must: `version-traceid-parentid-flags` in lowercase hex,
 * version `ff` invalid, an all-zero trace id or parent id invalid; version 00 is exactly 55
 * characters, a later version may append fields after a dash. Anything else has no trace id. The
 * sidecar only reads it (to put the id in its logs and error pages); the header itself is
 * forwarded untouched.
 */
const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_PARENT_ID = '0'.repeat(16);
const VERSION_00_LENGTH = 55;

export function traceIdOf(traceparent: string | string[] | undefined): string | undefined {
  // Node joins repeated headers; an array or a joined value is not one valid traceparent.
  if (typeof traceparent !== 'string' || traceparent.length < VERSION_00_LENGTH) return undefined;
  const version = traceparent.slice(0, 2);
  if (!HEX.test(version) || version === 'ff') return undefined;
  if (version === '00' ? traceparent.length !== VERSION_00_LENGTH : traceparent.length > VERSION_00_LENGTH && traceparent[VERSION_00_LENGTH] !== '-') return undefined;
  if (traceparent[2] !== '-' || traceparent[35] !== '-' || traceparent[52] !== '-') return undefined;
  const traceId = traceparent.slice(3, 35);
  const parentId = traceparent.slice(36, 52);
  const flags = traceparent.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(parentId) || !HEX.test(flags)) return undefined;
  if (traceId === ZERO_TRACE_ID || parentId === ZERO_PARENT_ID) return undefined;
  return traceId;
}

/**
 * `status.targetSummary`, the TARGETS printer column: kube-apiserver prints only the first value a
 * column's JSONPath finds, so `.status.targets[*].name` would show one target of many. A few names
 * fit a terminal, in name order; beyond them, the count of the rest.
 */
export const SUMMARY_NAMES = 3;

export function targetSummary(names: readonly string[]): string {
  const shown = [...names].sort().slice(0, SUMMARY_NAMES).join(',');
  return names.length > SUMMARY_NAMES ? `${shown} +${names.length - SUMMARY_NAMES} more` : shown;
}

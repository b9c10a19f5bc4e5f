/** Every condition reason the controller writes, by condition; docs/operator.md's table lists each (a test checks). */
export const CONDITION_REASONS = {
  Accepted: { true: ['Accepted'], false: ['InvalidSpec', 'PageNotFound', 'PageTooLarge'] },
  Ready: { true: ['Rendered'], false: ['InvalidSpec', 'PageNotFound', 'PageTooLarge', 'Conflicted', 'TargetNotFound', 'NoTargets', 'TargetsNotInjected', 'TargetsNotConfigured'] },
  Conflicted: { true: ['Conflicted'], false: ['NoConflict'] },
  Degraded: { true: ['ServiceBypassesSidecar'], false: ['AllTrafficThroughSidecar'] },
} as const;

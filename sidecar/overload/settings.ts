/** The policy's `overload` section as the limiter and its gradient controller take it. */
import { parseDuration } from '../../api/duration.js';
import type { OverloadSettings } from '../../api/schema.js';
import { DEFAULT_GRADIENT_SETTINGS } from './gradient.js';
import type { LimiterSettings } from './limiter.js';

export function limiterSettings(overload: Readonly<OverloadSettings>): LimiterSettings {
  const { minLimit, maxLimit, smoothing, minRttInterval } = overload.adaptive;
  return {
    mode: overload.mode === false ? 'off' : overload.mode,
    limit: overload.limit,
    queueSize: overload.queue.size,
    queueTimeoutMs: parseDuration(overload.queue.timeout),
    queueTargetMs: parseDuration(overload.queue.target),
    queueIntervalMs: parseDuration(overload.queue.interval),
    queueOrder: overload.queue.order,
    priorityPaths: overload.priorityPaths,
    gradient: {
      ...DEFAULT_GRADIENT_SETTINGS,
      minLimit,
      maxLimit,
      initialLimit: Math.min(maxLimit, Math.max(minLimit, DEFAULT_GRADIENT_SETTINGS.initialLimit)),
      smoothing,
      minRttIntervalMs: parseDuration(minRttInterval),
    },
  };
}

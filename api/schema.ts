/**
 * The single source of the BadGatewayPolicy schema. The CRD's openAPIV3Schema (api/crd.ts), the
 * operator's validation and the sidecar's config validation (api/validate.ts) all come from here.
 *
 * Fields that have a default are declared required: after defaults are applied every one of them
 * is present, so `Static<>` gives the resolved type. The CRD generator drops `required` for them,
 * so an empty `spec` stays valid for users.
 */
import { Type, type Static, type TLiteral, type TUnion } from '@sinclair/typebox';
import { ADDRESS_RANGE_PATTERN } from './address-range.js';
import { DURATION_PATTERN } from './duration.js';

const Duration = (defaultValue: string | undefined, description: string) =>
  Type.String({
    pattern: DURATION_PATTERN,
    description: `${description} Go-style duration, e.g. 250ms, 1s, 2m.`,
    ...(defaultValue === undefined ? {} : { default: defaultValue }),
  });

/** A closed set of literals; the CRD generator renders it as an `enum`. */
function OneOf<const T extends readonly (string | number | boolean)[]>(
  values: T,
  options: { default?: T[number]; description: string },
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(values.map((value) => Type.Literal(value)), options);
}

const HttpErrorStatus = Type.Integer({ minimum: 400, maximum: 599 });

export const TimeoutsSchema = Type.Object(
  {
    connect: Duration('1s', 'TCP connect to the app.'),
    response: Duration('15s', 'Until the app\'s response headers arrive; then timeoutStatus.'),
    idle: Duration('4s', 'Keep-alive idle time of pooled upstream connections; keep it below the app\'s own keep-alive timeout.'),
    requestBodyIdle: Duration('60s', 'Longest pause between two pieces of a client\'s request body (like nginx\'s client_body_timeout); then 408 and the connection closed, never counted against the app.'),
    responseBodyIdle: Duration('60s', 'Longest pause between two pieces of the app\'s response body once its head arrived (like nginx\'s proxy_read_timeout); then the client connection is aborted and the breaker counts a failure.'),
  },
  { additionalProperties: false, default: {}, description: 'Upstream timeouts.' },
);

export const CircuitBreakerSchema = Type.Object(
  {
    errorThresholdPercentage: Type.Integer({ minimum: 1, maximum: 100, default: 50, description: 'Failure percentage in the rolling window that opens the circuit.' }),
    volumeThreshold: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 10, description: 'No tripping below this many requests in the window.' }),
    rollingWindow: Duration('10s', 'Length of the statistics window.'),
    resetTimeout: Duration('15s', 'Open to half-open; one trial request then decides.'),
    failureStatusCodes: Type.Array(HttpErrorStatus, { default: [502, 503, 504], maxItems: 200, uniqueItems: true, description: 'Upstream statuses that count as failures (they are still passed through unchanged).' }),
    failureGrpcCodes: Type.Array(Type.Integer({ minimum: 0, maximum: 16 }), { default: [14], maxItems: 17, uniqueItems: true, description: 'gRPC statuses in the app\'s trailers (or Trailers-Only headers) that count as failures (they are still passed through unchanged); 14 is UNAVAILABLE.' }),
    mode: OneOf(['enforce', 'shadow'] as const, { default: 'enforce', description: 'shadow records would-be trips and never rejects.' }),
  },
  { additionalProperties: false, default: {}, description: 'Circuit breaker per upstream.' },
);

export const RetrySchema = Type.Object(
  {
    attempts: Type.Integer({ minimum: 0, maximum: 5, default: 1, description: 'Retries of idempotent requests that failed before any response byte arrived.' }),
  },
  { additionalProperties: false, default: {}, description: 'Safe retries.' },
);

export const ConfigMapKeyRefSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 253, description: 'ConfigMap in the policy\'s namespace.' }),
    key: Type.String({ minLength: 1, maxLength: 253, description: 'Key holding the page body.' }),
  },
  { additionalProperties: false },
);

/** Largest error page body, inline or resolved from a ConfigMap. */
export const MAX_ERROR_PAGE_BYTES = 64 * 1024;

const pageFields = {
  status: { ...HttpErrorStatus, description: 'HTTP status this page is served for.' },
  contentType: Type.String({ minLength: 1, maxLength: 255, default: 'text/html', description: 'Content-Type of the body; also matched against Accept.' }),
};
const PageBody = Type.String({ maxLength: MAX_ERROR_PAGE_BYTES, description: 'Page body; {{requestId}}, {{status}} and {{reason}} are substituted, HTML-escaped.' });

/** An error page as users write it: an inline body or a ConfigMap reference (exactly one). */
export const ErrorPageSchema = Type.Object(
  {
    ...pageFields,
    body: Type.Optional(PageBody),
    configMapRef: Type.Optional(ConfigMapKeyRefSchema),
  },
  { additionalProperties: false },
);

/** An error page as the sidecar reads it: always an inline body. */
export const ResolvedErrorPageSchema = Type.Object({ ...pageFields, body: PageBody }, { additionalProperties: false });

export const OverloadQueueSchema = Type.Object(
  {
    size: Type.Integer({ minimum: 0, maximum: 100_000, default: 100, description: 'Requests that may wait for a slot; 0 sheds at once.' }),
    timeout: Duration('250ms', 'Longest wait in the queue before the request is shed, while the queue does not stand (see target).'),
    target: Duration('5ms', 'Longest wait while the queue stands (controlled delay): once arriving requests have had to wait for a whole interval, older waiters are shed after this long.'),
    interval: Duration('100ms', 'How long requests must keep finding the app full before the queue counts as standing.'),
    order: OneOf(['adaptive-lifo', 'fifo'] as const, { default: 'adaptive-lifo', description: 'adaptive-lifo serves the newest waiter first while the queue stands (oldest first otherwise); fifo always serves the oldest first.' }),
  },
  { additionalProperties: false, default: {}, description: 'Short bursts wait here instead of being shed.' },
);

export const AdaptiveLimitSchema = Type.Object(
  {
    minLimit: Type.Integer({ minimum: 1, maximum: 100_000, default: 3, description: 'Lowest limit; also the concurrency while minRTT is re-measured.' }),
    maxLimit: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000, description: 'Highest limit.' }),
    smoothing: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.2, description: 'Weight of each new limit against the previous one (1: no smoothing).' }),
    minRttInterval: Duration('60s', 'How often the app\'s unloaded round-trip time is measured again at minLimit concurrency.'),
  },
  { additionalProperties: false, default: {}, description: 'The gradient controller behind limit: adaptive.' },
);

/** A fixed limit or the literal 'adaptive'; the CRD generator renders it as x-kubernetes-int-or-string. */
const OverloadLimit = Type.Union(
  [Type.Literal('adaptive'), Type.Integer({ minimum: 1, maximum: 100_000 })],
  { default: 'adaptive', description: 'Requests the app may have in flight: adaptive (follows the app\'s latency) or a fixed number.' },
);

export const OverloadSchema = Type.Object(
  {
    // false: a bare `off` as YAML 1.1 readers (kubectl, Helm) read it; validation turns it into 'off'.
    mode: OneOf(['off', 'shadow', 'enforce', false] as const, { default: 'off', description: 'off, shadow (count would-be sheds, shed nothing) or enforce (503 overloaded); false (a bare off read as YAML 1.1) means off.' }),
    limit: OverloadLimit,
    queue: OverloadQueueSchema,
    adaptive: AdaptiveLimitSchema,
    priorityPaths: Type.Array(Type.String({ pattern: '^/', maxLength: 1024 }), {
      default: ['/healthz', '/readyz', '/livez'],
      maxItems: 50,
      description: 'Request paths that bypass the limiter (health checks); an entry ending in / matches the paths under it.',
    }),
  },
  { additionalProperties: false, default: {}, description: 'Concurrency limiter in front of the app; sheds with a fast 503 when it is full.' },
);

const behaviourFields = {
  timeouts: TimeoutsSchema,
  circuitBreaker: CircuitBreakerSchema,
  retry: RetrySchema,
  openStatus: OneOf([502, 503] as const, { default: 502, description: 'Status while the circuit is open.' }),
  timeoutStatus: OneOf([504, 502] as const, { default: 504, description: 'Status on a response timeout.' }),
  retryAfter: Type.Optional(Duration(undefined, 'Retry-After on fast failures; default is the time left until the next trial.')),
  overload: OverloadSchema,
  trustedProxies: Type.Array(Type.String({ pattern: ADDRESS_RANGE_PATTERN, maxLength: 64 }), {
    default: [],
    maxItems: 100,
    uniqueItems: true,
    description: 'Peers (IP addresses or CIDR ranges, e.g. the ingress controller\'s pods) whose X-Forwarded-Proto and X-Forwarded-Host reach the app as sent. From any other peer the sidecar sets them itself: X-Forwarded-Proto http, X-Forwarded-Host the request\'s Host. Default: trust nobody.',
  }),
};

export const TargetRefSchema = Type.Object(
  {
    kind: OneOf(['Deployment'] as const, { default: 'Deployment', description: 'Kind of the target.' }),
    name: Type.String({ minLength: 1, maxLength: 253, description: 'Name of the target in the policy\'s namespace.' }),
  },
  { additionalProperties: false },
);

export const LabelSelectorSchema = Type.Object(
  {
    matchLabels: Type.Optional(Type.Record(Type.String(), Type.String())),
    matchExpressions: Type.Optional(Type.Array(Type.Object(
      {
        key: Type.String({ minLength: 1 }),
        operator: OneOf(['In', 'NotIn', 'Exists', 'DoesNotExist'] as const, { description: 'Set-based operator.' }),
        values: Type.Optional(Type.Array(Type.String())),
      },
      { additionalProperties: false },
    ))),
  },
  { additionalProperties: false, description: 'Matched against the pod template labels of Deployments in the namespace.' },
);

export const PolicySpecSchema = Type.Object(
  {
    targetRef: Type.Optional(TargetRefSchema),
    selector: Type.Optional(LabelSelectorSchema),
    ...behaviourFields,
    errorPages: Type.Array(ErrorPageSchema, { default: [], maxItems: 50, description: 'Branded pages by status.' }),
  },
  { additionalProperties: false, default: {}, description: 'Desired behaviour of the badgateway sidecars this policy targets.' },
);

/** The rendered sidecar configuration (ConfigMap key policy.json): spec without targeting, pages inline. */
export const SidecarConfigSchema = Type.Object(
  {
    ...behaviourFields,
    errorPages: Type.Array(ResolvedErrorPageSchema, { default: [], maxItems: 50 }),
  },
  { additionalProperties: false, default: {} },
);

export type Timeouts = Static<typeof TimeoutsSchema>;
export type CircuitBreakerSettings = Static<typeof CircuitBreakerSchema>;
export type OverloadSettings = Static<typeof OverloadSchema>;
export type ErrorPage = Static<typeof ErrorPageSchema>;
export type ResolvedErrorPage = Static<typeof ResolvedErrorPageSchema>;
export type LabelSelector = Static<typeof LabelSelectorSchema>;
export type TargetRef = Static<typeof TargetRefSchema>;
export type PolicySpec = Static<typeof PolicySpecSchema>;
export type SidecarConfig = Static<typeof SidecarConfigSchema>;

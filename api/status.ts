/** Status of a BadGatewayPolicy, as the operator writes it and the CRD declares it. */
import { Type, type Static } from '@sinclair/typebox';

/** The standard metav1.Condition shape. */
export const ConditionSchema = Type.Object({
  type: Type.String({ maxLength: 316 }),
  status: Type.Union([Type.Literal('True'), Type.Literal('False'), Type.Literal('Unknown')]),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  lastTransitionTime: Type.String({ format: 'date-time' }),
  reason: Type.String({ maxLength: 1024, minLength: 1 }),
  message: Type.String({ maxLength: 32768 }),
});

export const PolicyStatusSchema = Type.Object({
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  conditions: Type.Optional(Type.Array(ConditionSchema)),
  targets: Type.Optional(Type.Array(Type.Object({
    kind: Type.String(),
    name: Type.String(),
    /** The pod template runs the badgateway sidecar. */
    injected: Type.Boolean(),
    /** ...with this policy's ConfigMap mounted as its configuration. */
    configured: Type.Optional(Type.Boolean()),
  }))),
  /** The targets' names for the TARGETS column: "web,api", or "web,api,cart +2 more". */
  targetSummary: Type.Optional(Type.String()),
  /** Targets running the sidecar with this policy's configuration, of all targets: "2/3". */
  configured: Type.Optional(Type.String()),
  bypassingServices: Type.Optional(Type.Array(Type.Object({
    name: Type.String(),
    port: Type.Integer(),
    message: Type.Optional(Type.String()),
  }))),
  configMap: Type.Optional(Type.String()),
});

export type Condition = Static<typeof ConditionSchema>;
export type PolicyStatus = Static<typeof PolicyStatusSchema>;

export const CONDITION_TYPES = {
  accepted: 'Accepted',
  ready: 'Ready',
  conflicted: 'Conflicted',
  degraded: 'Degraded',
} as const;

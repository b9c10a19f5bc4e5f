/**
 * Field tables of k8s.io/apimachinery messages (pkg/apis/meta/v1, pkg/runtime, pkg/util/intstr,
 * pkg/api/resource generated.proto): field number → "jsonName type". Types: string, bytes, int32,
 * int64, bool, a message name, the specials Time/MicroTime/Quantity/IntOrString/FieldsV1/
 * RawExtension (JSON scalars or raw JSON on the wire side); `[]T` repeated, `map<T>` a map with
 * string keys; a trailing `?` marks a Go pointer (its zero value is kept), `!` a Go embedded
 * struct whose fields JSON flattens into the parent.
 */
export type MessageTable = Record<string, Record<number, string>>;

export const META_MESSAGES: MessageTable = {
  // runtime.Unknown is the envelope after the `k8s\0` magic; runtime.TypeMeta is its first field.
  Unknown: { 1: 'typeMeta TypeMeta', 2: 'raw bytes', 3: 'contentEncoding string', 4: 'contentType string' },
  TypeMeta: { 1: 'apiVersion string', 2: 'kind string' },
  ObjectMeta: {
    1: 'name string', 2: 'generateName string', 3: 'namespace string', 4: 'selfLink string', 5: 'uid string',
    6: 'resourceVersion string', 7: 'generation int64', 8: 'creationTimestamp Time', 9: 'deletionTimestamp Time',
    10: 'deletionGracePeriodSeconds int64?', 11: 'labels map<string>', 12: 'annotations map<string>',
    13: 'ownerReferences []OwnerReference', 14: 'finalizers []string', 17: 'managedFields []ManagedFieldsEntry',
  },
  OwnerReference: { 1: 'kind string', 3: 'name string', 4: 'uid string', 5: 'apiVersion string', 6: 'controller bool?', 7: 'blockOwnerDeletion bool?' },
  ManagedFieldsEntry: { 1: 'manager string', 2: 'operation string', 3: 'apiVersion string', 4: 'time Time', 6: 'fieldsType string', 7: 'fieldsV1 FieldsV1', 8: 'subresource string' },
  ListMeta: { 1: 'selfLink string', 2: 'resourceVersion string', 3: 'continue string', 4: 'remainingItemCount int64?' },
  LabelSelector: { 1: 'matchLabels map<string>', 2: 'matchExpressions []LabelSelectorRequirement' },
  LabelSelectorRequirement: { 1: 'key string', 2: 'operator string', 3: 'values []string' },
  Condition: { 1: 'type string', 2: 'status string', 3: 'observedGeneration int64', 4: 'lastTransitionTime Time', 5: 'reason string', 6: 'message string' },
  Status: { 1: 'metadata ListMeta', 2: 'status string', 3: 'message string', 4: 'reason string', 5: 'details StatusDetails?', 6: 'code int32' },
  StatusDetails: { 1: 'name string', 2: 'group string', 3: 'kind string', 4: 'causes []StatusCause', 5: 'retryAfterSeconds int32', 6: 'uid string' },
  // The body of a typed client's DELETE (e.g. Helm purging its release Secrets).
  DeleteOptions: { 1: 'gracePeriodSeconds int64?', 2: 'preconditions Preconditions?', 3: 'orphanDependents bool?', 4: 'propagationPolicy string?', 5: 'dryRun []string', 6: 'ignoreStoreReadErrorWithClusterBreakingPotential bool?' },
  Preconditions: { 1: 'uid string?', 2: 'resourceVersion string?' },
  StatusCause: { 1: 'reason string', 2: 'message string', 3: 'field string' },
};

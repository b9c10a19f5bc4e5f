/**
 * Field tables of the built-in kinds Helm and `kubectl create` send as protobuf (k8s.io/api
 * core/v1 and apps/v1 generated.proto), in the notation of meta-messages.ts. Only what these
 * kinds and the chart use is listed: a field number not listed is refused by the decoder with its
 * message and number, never dropped silently.
 */
import type { MessageTable } from './meta-messages.js';

const list = (item: string) => ({ 1: 'metadata ListMeta', 2: `items []${item}` });

export const CORE_MESSAGES: MessageTable = {
  Namespace: { 1: 'metadata ObjectMeta', 2: 'spec NamespaceSpec', 3: 'status NamespaceStatus' },
  NamespaceSpec: { 1: 'finalizers []string' },
  NamespaceStatus: { 1: 'phase string', 2: 'conditions []NamespaceCondition' },
  NamespaceCondition: { 1: 'type string', 2: 'status string', 4: 'lastTransitionTime Time', 5: 'reason string', 6: 'message string' },
  NamespaceList: list('Namespace'),
  ConfigMap: { 1: 'metadata ObjectMeta', 2: 'data map<string>', 3: 'binaryData map<bytes>', 4: 'immutable bool?' },
  ConfigMapList: list('ConfigMap'),
  Secret: { 1: 'metadata ObjectMeta', 2: 'data map<bytes>', 3: 'type string', 4: 'stringData map<string>', 5: 'immutable bool?' },
  SecretList: list('Secret'),
  ServiceAccount: { 1: 'metadata ObjectMeta', 2: 'secrets []ObjectReference', 3: 'imagePullSecrets []LocalObjectReference', 4: 'automountServiceAccountToken bool?' },
  ServiceAccountList: list('ServiceAccount'),
  ObjectReference: { 1: 'kind string', 2: 'namespace string', 3: 'name string', 4: 'uid string', 5: 'apiVersion string', 6: 'resourceVersion string', 7: 'fieldPath string' },
  LocalObjectReference: { 1: 'name string' },
  Service: { 1: 'metadata ObjectMeta', 2: 'spec ServiceSpec', 3: 'status ServiceStatus' },
  ServiceSpec: {
    1: 'ports []ServicePort', 2: 'selector map<string>', 3: 'clusterIP string', 4: 'type string', 5: 'externalIPs []string',
    7: 'sessionAffinity string', 8: 'loadBalancerIP string', 9: 'loadBalancerSourceRanges []string', 10: 'externalName string',
    11: 'externalTrafficPolicy string', 12: 'healthCheckNodePort int32', 13: 'publishNotReadyAddresses bool',
    14: 'sessionAffinityConfig SessionAffinityConfig?', 17: 'ipFamilyPolicy string?', 18: 'clusterIPs []string', 19: 'ipFamilies []string',
    20: 'allocateLoadBalancerNodePorts bool?', 21: 'loadBalancerClass string?', 22: 'internalTrafficPolicy string?', 23: 'trafficDistribution string?',
  },
  SessionAffinityConfig: { 1: 'clientIP ClientIPConfig?' },
  ClientIPConfig: { 1: 'timeoutSeconds int32?' },
  ServicePort: { 1: 'name string', 2: 'protocol string', 3: 'port int32', 4: 'targetPort IntOrString', 5: 'nodePort int32', 6: 'appProtocol string?' },
  ServiceStatus: { 1: 'loadBalancer LoadBalancerStatus', 2: 'conditions []Condition' },
  LoadBalancerStatus: { 1: 'ingress []LoadBalancerIngress' },
  LoadBalancerIngress: { 1: 'ip string', 2: 'hostname string' },
  ServiceList: list('Service'),
  Deployment: { 1: 'metadata ObjectMeta', 2: 'spec DeploymentSpec', 3: 'status DeploymentStatus' },
  DeploymentSpec: {
    1: 'replicas int32?', 2: 'selector LabelSelector?', 3: 'template PodTemplateSpec', 4: 'strategy DeploymentStrategy', 5: 'minReadySeconds int32',
    6: 'revisionHistoryLimit int32?', 7: 'paused bool', 9: 'progressDeadlineSeconds int32?',
  },
  DeploymentStrategy: { 1: 'type string', 2: 'rollingUpdate RollingUpdateDeployment?' },
  RollingUpdateDeployment: { 1: 'maxUnavailable IntOrString?', 2: 'maxSurge IntOrString?' },
  DeploymentStatus: {
    1: 'observedGeneration int64', 2: 'replicas int32', 3: 'updatedReplicas int32', 4: 'availableReplicas int32', 5: 'unavailableReplicas int32',
    6: 'conditions []DeploymentCondition', 7: 'readyReplicas int32', 8: 'collisionCount int32?', 9: 'terminatingReplicas int32?',
  },
  DeploymentCondition: { 1: 'type string', 2: 'status string', 4: 'reason string', 5: 'message string', 6: 'lastUpdateTime Time', 7: 'lastTransitionTime Time' },
  DeploymentList: list('Deployment'),
  PodTemplateSpec: { 1: 'metadata ObjectMeta', 2: 'spec PodSpec' },
  PodSpec: {
    1: 'volumes []Volume', 2: 'containers []Container', 3: 'restartPolicy string', 4: 'terminationGracePeriodSeconds int64?',
    5: 'activeDeadlineSeconds int64?', 6: 'dnsPolicy string', 7: 'nodeSelector map<string>', 8: 'serviceAccountName string',
    9: 'serviceAccount string', 10: 'nodeName string', 11: 'hostNetwork bool', 12: 'hostPID bool', 13: 'hostIPC bool',
    14: 'securityContext PodSecurityContext?', 15: 'imagePullSecrets []LocalObjectReference', 16: 'hostname string', 17: 'subdomain string',
    19: 'schedulerName string', 20: 'initContainers []Container', 21: 'automountServiceAccountToken bool?', 22: 'tolerations []Toleration',
    24: 'priorityClassName string', 25: 'priority int32?', 27: 'shareProcessNamespace bool?', 29: 'runtimeClassName string?', 30: 'enableServiceLinks bool?',
    33: 'topologySpreadConstraints []TopologySpreadConstraint',
  },
  TopologySpreadConstraint: {
    1: 'maxSkew int32', 2: 'topologyKey string', 3: 'whenUnsatisfiable string', 4: 'labelSelector LabelSelector?', 5: 'minDomains int32?',
    6: 'nodeAffinityPolicy string?', 7: 'nodeTaintsPolicy string?', 8: 'matchLabelKeys []string',
  },
  PodSecurityContext: { 2: 'runAsUser int64?', 3: 'runAsNonRoot bool?', 4: 'supplementalGroups []int64', 5: 'fsGroup int64?', 6: 'runAsGroup int64?', 10: 'seccompProfile SeccompProfile?' },
  SecurityContext: {
    1: 'capabilities Capabilities?', 2: 'privileged bool?', 4: 'runAsUser int64?', 5: 'runAsNonRoot bool?', 6: 'readOnlyRootFilesystem bool?',
    7: 'allowPrivilegeEscalation bool?', 8: 'runAsGroup int64?', 9: 'procMount string?', 11: 'seccompProfile SeccompProfile?',
  },
  Capabilities: { 1: 'add []string', 2: 'drop []string' },
  SeccompProfile: { 1: 'type string', 2: 'localhostProfile string?' },
  Toleration: { 1: 'key string', 2: 'operator string', 3: 'value string', 4: 'effect string', 5: 'tolerationSeconds int64?' },
  Container: {
    1: 'name string', 2: 'image string', 3: 'command []string', 4: 'args []string', 5: 'workingDir string', 6: 'ports []ContainerPort',
    7: 'env []EnvVar', 8: 'resources ResourceRequirements', 9: 'volumeMounts []VolumeMount', 10: 'livenessProbe Probe?', 11: 'readinessProbe Probe?',
    13: 'terminationMessagePath string', 14: 'imagePullPolicy string', 15: 'securityContext SecurityContext?', 16: 'stdin bool', 17: 'stdinOnce bool',
    18: 'tty bool', 19: 'envFrom []EnvFromSource', 20: 'terminationMessagePolicy string', 22: 'startupProbe Probe?',
  },
  ContainerPort: { 1: 'name string', 2: 'hostPort int32', 3: 'containerPort int32', 4: 'protocol string', 5: 'hostIP string' },
  EnvVar: { 1: 'name string', 2: 'value string', 3: 'valueFrom EnvVarSource?' },
  EnvVarSource: { 1: 'fieldRef ObjectFieldSelector?', 2: 'resourceFieldRef ResourceFieldSelector?', 3: 'configMapKeyRef ConfigMapKeySelector?', 4: 'secretKeyRef SecretKeySelector?' },
  EnvFromSource: { 1: 'prefix string', 2: 'configMapRef ConfigMapEnvSource?', 3: 'secretRef SecretEnvSource?' },
  ConfigMapEnvSource: { 1: 'localObjectReference LocalObjectReference!', 2: 'optional bool?' },
  SecretEnvSource: { 1: 'localObjectReference LocalObjectReference!', 2: 'optional bool?' },
  ObjectFieldSelector: { 1: 'apiVersion string', 2: 'fieldPath string' },
  ResourceFieldSelector: { 1: 'containerName string', 2: 'resource string', 3: 'divisor Quantity' },
  ConfigMapKeySelector: { 1: 'localObjectReference LocalObjectReference!', 2: 'key string', 3: 'optional bool?' },
  SecretKeySelector: { 1: 'localObjectReference LocalObjectReference!', 2: 'key string', 3: 'optional bool?' },
  ResourceRequirements: { 1: 'limits map<Quantity>', 2: 'requests map<Quantity>' },
  VolumeMount: { 1: 'name string', 2: 'readOnly bool', 3: 'mountPath string', 4: 'subPath string', 5: 'mountPropagation string?', 6: 'subPathExpr string' },
  Volume: { 1: 'name string', 2: 'volumeSource VolumeSource!' },
  VolumeSource: { 2: 'emptyDir EmptyDirVolumeSource?', 6: 'secret SecretVolumeSource?', 19: 'configMap ConfigMapVolumeSource?' },
  EmptyDirVolumeSource: { 1: 'medium string', 2: 'sizeLimit Quantity?' },
  SecretVolumeSource: { 1: 'secretName string', 2: 'items []KeyToPath', 3: 'defaultMode int32?', 4: 'optional bool?' },
  ConfigMapVolumeSource: { 1: 'localObjectReference LocalObjectReference!', 2: 'items []KeyToPath', 3: 'defaultMode int32?', 4: 'optional bool?' },
  KeyToPath: { 1: 'key string', 2: 'path string', 3: 'mode int32?' },
  Probe: { 1: 'handler ProbeHandler!', 2: 'initialDelaySeconds int32', 3: 'timeoutSeconds int32', 4: 'periodSeconds int32', 5: 'successThreshold int32', 6: 'failureThreshold int32', 7: 'terminationGracePeriodSeconds int64?' },
  ProbeHandler: { 1: 'exec ExecAction?', 2: 'httpGet HTTPGetAction?', 3: 'tcpSocket TCPSocketAction?' },
  ExecAction: { 1: 'command []string' },
  HTTPGetAction: { 1: 'path string', 2: 'port IntOrString', 3: 'host string', 4: 'scheme string' },
  TCPSocketAction: { 1: 'port IntOrString', 2: 'host string' },
};

/** apiVersion/kind → the message of its body. */
export const KIND_MESSAGES: Record<string, string> = {
  'v1/Namespace': 'Namespace', 'v1/NamespaceList': 'NamespaceList', 'v1/ConfigMap': 'ConfigMap', 'v1/ConfigMapList': 'ConfigMapList',
  'v1/Secret': 'Secret', 'v1/SecretList': 'SecretList', 'v1/ServiceAccount': 'ServiceAccount', 'v1/ServiceAccountList': 'ServiceAccountList',
  'v1/Service': 'Service', 'v1/ServiceList': 'ServiceList', 'apps/v1/Deployment': 'Deployment', 'apps/v1/DeploymentList': 'DeploymentList',
  'v1/Status': 'Status', 'meta.k8s.io/v1/DeleteOptions': 'DeleteOptions', 'v1/DeleteOptions': 'DeleteOptions',
};

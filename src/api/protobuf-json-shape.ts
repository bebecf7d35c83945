// What the vendored generated.proto files cannot say about the JSON form of a Kubernetes object,
// written down once. Go's encoding/json decides the JSON shape from struct tags, and three of
// those tags leave no trace in the .proto files:
//
// - `json:",inline"`: an embedded struct is a nested message in protobuf but its fields sit in the
//   parent object in JSON (ConfigMapKeySelector.localObjectReference -> `name` beside `key`).
// - `omitempty` on a non-pointer scalar: gogo-protobuf always writes such fields, so a kubectl
//   ConfigMap carries `generateName: ""`, but its JSON omits them. The generated.proto comments
//   keep the `+optional` marker that goes with omitempty, and the decoder reads it from there.
// - pointers: an optional *int32/*bool/*string is written only when set, and then it must reach
//   JSON even when zero (`replicas: 0`, `automountServiceAccountToken: false`). Nothing in the
//   .proto distinguishes them from non-pointer optional fields, hence the table below, taken from
//   the k8s.io/api and k8s.io/apimachinery types.go of the kinds Skiff serves.
//
// Keys are proto message names relative to their package root: `core.v1.Probe`, `meta.v1.ObjectMeta`.

/** Embedded (inline) structs: message -> the field whose members are lifted into the parent. */
export const INLINE_FIELDS: Readonly<Record<string, string>> = {
  'core.v1.ConfigMapEnvSource': 'localObjectReference',
  'core.v1.ConfigMapKeySelector': 'localObjectReference',
  'core.v1.ConfigMapProjection': 'localObjectReference',
  'core.v1.ConfigMapVolumeSource': 'localObjectReference',
  'core.v1.SecretEnvSource': 'localObjectReference',
  'core.v1.SecretKeySelector': 'localObjectReference',
  'core.v1.SecretProjection': 'localObjectReference',
  'core.v1.EphemeralContainer': 'ephemeralContainerCommon',
  'core.v1.Probe': 'handler',
  'core.v1.PersistentVolumeSpec': 'persistentVolumeSource',
  'core.v1.Volume': 'volumeSource',
};

/** Optional scalar fields that are pointers in Go: a zero value that was sent is kept. */
const POINTER_FIELDS: Readonly<Record<string, readonly string[]>> = {
  'meta.v1.ObjectMeta': ['deletionGracePeriodSeconds'],
  'meta.v1.OwnerReference': ['controller', 'blockOwnerDeletion'],
  'meta.v1.DeleteOptions': ['gracePeriodSeconds', 'orphanDependents', 'propagationPolicy', 'ignoreStoreReadErrorWithClusterBreakingPotential'],
  'meta.v1.Preconditions': ['uid', 'resourceVersion'],
  'meta.v1.ListMeta': ['remainingItemCount'],
  'meta.v1.ListOptions': ['timeoutSeconds', 'sendInitialEvents'],
  'meta.v1.PatchOptions': ['force'],
  'core.v1.Container': ['restartPolicy'],
  'core.v1.EphemeralContainerCommon': ['restartPolicy'],
  'core.v1.SecurityContext': ['privileged', 'runAsUser', 'runAsGroup', 'runAsNonRoot', 'readOnlyRootFilesystem', 'allowPrivilegeEscalation', 'procMount'],
  'core.v1.PodSecurityContext': ['runAsUser', 'runAsGroup', 'runAsNonRoot', 'fsGroup', 'fsGroupChangePolicy', 'supplementalGroupsPolicy', 'seLinuxChangePolicy'],
  'core.v1.WindowsSecurityContextOptions': ['gmsaCredentialSpecName', 'gmsaCredentialSpec', 'runAsUserName', 'hostProcess'],
  'core.v1.SeccompProfile': ['localhostProfile'],
  'core.v1.AppArmorProfile': ['localhostProfile'],
  'core.v1.PodSpec': ['terminationGracePeriodSeconds', 'activeDeadlineSeconds', 'automountServiceAccountToken', 'shareProcessNamespace', 'priority', 'runtimeClassName', 'enableServiceLinks', 'preemptionPolicy', 'setHostnameAsFQDN', 'hostUsers'],
  'core.v1.Probe': ['terminationGracePeriodSeconds'],
  'core.v1.GRPCAction': ['service'],
  'core.v1.ConfigMap': ['immutable'],
  'core.v1.Secret': ['immutable'],
  'core.v1.ConfigMapEnvSource': ['optional'],
  'core.v1.ConfigMapKeySelector': ['optional'],
  'core.v1.ConfigMapProjection': ['optional'],
  'core.v1.ConfigMapVolumeSource': ['defaultMode', 'optional'],
  'core.v1.SecretEnvSource': ['optional'],
  'core.v1.SecretKeySelector': ['optional'],
  'core.v1.SecretProjection': ['optional'],
  'core.v1.SecretVolumeSource': ['defaultMode', 'optional'],
  'core.v1.KeyToPath': ['mode'],
  'core.v1.DownwardAPIVolumeFile': ['mode'],
  'core.v1.DownwardAPIVolumeSource': ['defaultMode'],
  'core.v1.ProjectedVolumeSource': ['defaultMode'],
  'core.v1.ServiceAccountTokenProjection': ['expirationSeconds'],
  'core.v1.ClusterTrustBundleProjection': ['name', 'signerName', 'optional'],
  'core.v1.HostPathVolumeSource': ['type'],
  'core.v1.CSIVolumeSource': ['readOnly', 'fsType'],
  'core.v1.ISCSIVolumeSource': ['initiatorName'],
  'core.v1.ISCSIPersistentVolumeSource': ['initiatorName'],
  'core.v1.PersistentVolumeClaimSpec': ['storageClassName', 'volumeMode', 'volumeAttributesClassName'],
  'core.v1.PersistentVolumeSpec': ['volumeMode', 'volumeAttributesClassName'],
  'core.v1.VolumeMount': ['mountPropagation', 'recursiveReadOnly'],
  'core.v1.VolumeMountStatus': ['recursiveReadOnly'],
  'core.v1.ServiceSpec': ['allocateLoadBalancerNodePorts', 'ipFamilyPolicy', 'loadBalancerClass', 'internalTrafficPolicy', 'trafficDistribution'],
  'core.v1.ServicePort': ['appProtocol'],
  'core.v1.ClientIPConfig': ['timeoutSeconds'],
  'core.v1.LoadBalancerIngress': ['ipMode', 'error'],
  'core.v1.PortStatus': ['error'],
  'core.v1.ServiceAccount': ['automountServiceAccountToken'],
  'core.v1.Toleration': ['tolerationSeconds'],
  'core.v1.TopologySpreadConstraint': ['minDomains', 'nodeAffinityPolicy', 'nodeTaintsPolicy'],
  'core.v1.EndpointAddress': ['nodeName'],
  'core.v1.EndpointPort': ['appProtocol'],
  'core.v1.PodResourceClaim': ['resourceClaimName', 'resourceClaimTemplateName'],
  'core.v1.PodResourceClaimStatus': ['resourceClaimName'],
  'core.v1.ContainerStatus': ['started'],
  'core.v1.Event': ['series', 'related'],
  'apps.v1.DeploymentSpec': ['replicas', 'revisionHistoryLimit', 'progressDeadlineSeconds'],
  'apps.v1.DeploymentStatus': ['collisionCount'],
  'apps.v1.ReplicaSetSpec': ['replicas'],
  'apps.v1.StatefulSetSpec': ['replicas', 'revisionHistoryLimit'],
  'apps.v1.StatefulSetStatus': ['collisionCount'],
  'apps.v1.RollingUpdateStatefulSetStrategy': ['partition'],
  'apps.v1.DaemonSetSpec': ['revisionHistoryLimit'],
  'apps.v1.DaemonSetStatus': ['collisionCount'],
  'batch.v1.JobSpec': ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'backoffLimitPerIndex', 'maxFailedIndexes', 'manualSelector', 'ttlSecondsAfterFinished', 'completionMode', 'suspend', 'podReplacementPolicy', 'managedBy'],
  'batch.v1.JobStatus': ['terminating', 'ready'],
  'batch.v1.CronJobSpec': ['timeZone', 'startingDeadlineSeconds', 'suspend', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit'],
  'batch.v1.SuccessPolicyRule': ['succeededIndexes', 'succeededCount'],
  'batch.v1.PodFailurePolicyOnExitCodesRequirement': ['containerName'],
  'autoscaling.v1.HorizontalPodAutoscalerSpec': ['minReplicas', 'targetCPUUtilizationPercentage'],
  'autoscaling.v1.HorizontalPodAutoscalerStatus': ['observedGeneration', 'currentCPUUtilizationPercentage'],
  'autoscaling.v1.ContainerResourceMetricSource': ['targetAverageUtilization'],
  'autoscaling.v1.ContainerResourceMetricStatus': ['currentAverageUtilization'],
  'autoscaling.v1.ResourceMetricSource': ['targetAverageUtilization'],
  'autoscaling.v1.ResourceMetricStatus': ['currentAverageUtilization'],
  'coordination.v1.LeaseSpec': ['holderIdentity', 'leaseDurationSeconds', 'leaseTransitions', 'strategy', 'preferredHolder'],
  'discovery.v1.Endpoint': ['hostname', 'nodeName', 'zone'],
  'discovery.v1.EndpointConditions': ['ready', 'serving', 'terminating'],
  'discovery.v1.EndpointPort': ['name', 'protocol', 'port', 'appProtocol'],
  'policy.v1.PodDisruptionBudgetSpec': ['unhealthyPodEvictionPolicy'],
};

const pointerSet = new Set<string>(Object.entries(POINTER_FIELDS).flatMap(([type, fields]) => fields.map((f) => `${type}.${f}`)));

/** True when `type.field` is a Go pointer, so an explicit zero value belongs in the JSON. */
export function isPointerField(type: string, field: string): boolean {
  return pointerSet.has(`${type}.${field}`);
}

/** `.k8s.io.api.core.v1.Probe` -> `core.v1.Probe`; `.k8s.io.apimachinery.pkg.apis.meta.v1.Time` -> `meta.v1.Time`. */
export function shortTypeName(fullName: string): string {
  return fullName.replace(/^\.?k8s\.io\.api\./, '').replace(/^\.?k8s\.io\.apimachinery\.pkg\.(apis\.|api\.|util\.)?/, '');
}

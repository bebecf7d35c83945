// Defaulting of every served kind, as kube-apiserver 1.32 applies it when it decodes a request
// (the versioned SetDefaults_* functions), plus the create-time preparation of the registry
// strategies that this layer owns (a Job's generated selector, a Namespace's finalizer).
// Pure: no clock, no I/O; timestamps, uids and allocations come from the API server.
import type { ResourceType } from '../kinds.js';
import type { KubeObject } from '../types.js';
import { defaultDaemonSet, defaultDeployment, defaultReplicaSet, defaultStatefulSet } from './apps.js';
import { defaultCronJob, defaultJob, prepareJobForCreate } from './batch.js';
import { defaultEndpoints, defaultNamespace, defaultNode, defaultPersistentVolume, defaultPersistentVolumeClaim, defaultPod, defaultSecret, defaultService } from './core.js';
import { defaultEndpointSlice, defaultHorizontalPodAutoscaler, defaultStorageClass } from './other.js';
import { ensureObj } from './pod-spec.js';

export { prepareJobForCreate, LABEL_CONTROLLER_UID, LABEL_JOB_NAME, LEGACY_LABEL_CONTROLLER_UID, LEGACY_LABEL_JOB_NAME } from './batch.js';
export { podQOSClass } from './qos.js';
export { imageTag } from './pod-spec.js';

type Defaulter = (o: KubeObject, old?: KubeObject) => void;

const DEFAULTERS: Record<string, Defaulter> = {
  '/Pod': defaultPod,
  '/Service': defaultService,
  '/Namespace': defaultNamespace,
  '/Secret': defaultSecret,
  '/PersistentVolume': defaultPersistentVolume,
  '/PersistentVolumeClaim': (o) => defaultPersistentVolumeClaim(o),
  '/Endpoints': defaultEndpoints,
  '/Node': defaultNode,
  'apps/Deployment': defaultDeployment,
  'apps/ReplicaSet': defaultReplicaSet,
  'apps/StatefulSet': defaultStatefulSet,
  'apps/DaemonSet': defaultDaemonSet,
  'batch/Job': defaultJob,
  'batch/CronJob': defaultCronJob,
  'autoscaling/HorizontalPodAutoscaler': defaultHorizontalPodAutoscaler,
  'discovery.k8s.io/EndpointSlice': defaultEndpointSlice,
  'storage.k8s.io/StorageClass': defaultStorageClass,
};

/**
 * Fills the defaults of an object of type `rt` in place (idempotent: applying twice changes
 * nothing more). Call on every create and update, after the body is decoded and before
 * validation. On update pass the stored object as `old`: a Service then keeps the clusterIP
 * and nodePorts already allocated when the client omitted them, as kube-apiserver does.
 * Quantities in resource lists are rounded up to milli precision and canonicalized ("0.5" →
 * "500m"). Kinds without defaults are left untouched.
 */
export function applyDefaults(rt: ResourceType, obj: KubeObject, old?: KubeObject): void {
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  DEFAULTERS[`${rt.group}/${rt.kind}`]?.(obj, old);
}

/**
 * What the registry strategies set on create only, for the kinds this layer owns: a Job's
 * generated selector and pod labels (prepareJobForCreate) and a Namespace's `kubernetes`
 * finalizer, which may be removed later and so cannot be a default. Call once on create,
 * after name and uid are set and before applyDefaults.
 */
export function prepareKindForCreate(rt: ResourceType, obj: KubeObject, uid: string): void {
  if (rt.group === 'batch' && rt.kind === 'Job') prepareJobForCreate(obj, uid);
  if (rt.group === '' && rt.kind === 'Namespace') {
    const spec = ensureObj(obj, 'spec');
    if (!spec) return;
    const finalizers = Array.isArray(spec.finalizers) ? spec.finalizers : [];
    if (!finalizers.includes('kubernetes')) spec.finalizers = [...finalizers, 'kubernetes'];
  }
}

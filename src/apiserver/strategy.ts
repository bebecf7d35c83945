// Per-kind write rules that are not defaulting or validation (kube-apiserver's registry
// "strategies"): which fields a write through the main resource may change, what is reset on
// create, when generation moves. Pure functions over plain objects.
import type { ResourceType } from '../api/kinds.js';
import { podQOSClass } from '../api/defaults/index.js';
import type { KubeObject } from '../api/types.js';
import { canonicalJson } from './field-set.js';

/** Kinds whose status is written only through the /status subresource. */
export function hasStatusSubresource(rt: ResourceType): boolean {
  return 'status' in rt.subresources;
}

/** Everything but metadata and status, key order aside: what "spec changed" means for generation. */
export function specOf(obj: KubeObject): string {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return canonicalJson(rest);
}

/** On create: the status a new object starts with (the client's is ignored where status is a subresource). */
export function prepareForCreate(rt: ResourceType, obj: KubeObject): void {
  if (rt.hasGeneration) obj.metadata.generation = 1;
  if (!hasStatusSubresource(rt)) return;
  switch (rt.kind) {
    case 'Pod':
      obj.status = { phase: 'Pending', qosClass: podQOSClass(obj) };
      break;
    case 'Namespace':
      obj.status = { phase: 'Active' };
      break;
    case 'PersistentVolumeClaim':
    case 'PersistentVolume':
      obj.status = { phase: 'Pending' };
      break;
    case 'Node':
      // kubelets register nodes with their status; keep it.
      break;
    case 'Service':
      obj.status = { loadBalancer: {} };
      break;
    default:
      obj.status = {};
  }
}

/**
 * On an update through the main resource: status comes from the stored object, and generation
 * moves when the spec changed.
 */
export function prepareForUpdate(rt: ResourceType, obj: KubeObject, old: KubeObject): void {
  if (hasStatusSubresource(rt) && rt.kind !== 'Node') {
    if (old.status === undefined) delete obj.status;
    else obj.status = old.status;
  }
  bumpGeneration(rt, obj, old);
}

/** On an update through /status: only status (and nothing of spec or metadata's user fields) changes. */
export function prepareForStatusUpdate(obj: KubeObject, old: KubeObject): KubeObject {
  const { status } = obj;
  const next: KubeObject = structuredClone(old);
  if (status === undefined) delete next.status;
  else next.status = status;
  // resourceVersion from the request stays, as a precondition
  if (obj.metadata.resourceVersion !== undefined) next.metadata.resourceVersion = obj.metadata.resourceVersion;
  else delete next.metadata.resourceVersion;
  return next;
}

export function bumpGeneration(rt: ResourceType, obj: KubeObject, old: KubeObject): void {
  if (!rt.hasGeneration && old.metadata.generation === undefined) return;
  const g = old.metadata.generation ?? 1;
  obj.metadata.generation = specOf(obj) !== specOf(old) || (obj.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) ? g + 1 : g;
}

/** Kinds whose PUT creates the object when absent (AllowCreateOnUpdate upstream). */
export function allowsCreateOnUpdate(rt: ResourceType): boolean {
  return rt.kind === 'Endpoints' || rt.kind === 'Lease' || rt.kind === 'Event';
}

/** Kinds whose PUT without a resourceVersion is refused (AllowUnconditionalUpdate false upstream). */
export function allowsUnconditionalUpdate(rt: ResourceType): boolean {
  return rt.kind !== 'ControllerRevision';
}

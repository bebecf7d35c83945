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
  if (rt.kind === 'Service') dropTypeDependentFields(obj, old);
  bumpGeneration(rt, obj, old);
}

type SvcSpec = {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
  ports?: { nodePort?: number }[];
  healthCheckNodePort?: number;
  allocateLoadBalancerNodePorts?: boolean;
  loadBalancerClass?: string;
  externalTrafficPolicy?: string;
  externalIPs?: string[];
};

const svcType = (s: SvcSpec) => s.type ?? 'ClusterIP';
const needsClusterIP = (s: SvcSpec) => svcType(s) !== 'ExternalName';
const needsNodePort = (s: SvcSpec) => svcType(s) === 'NodePort' || (svcType(s) === 'LoadBalancer' && s.allocateLoadBalancerNodePorts !== false);
const needsHCNodePort = (s: SvcSpec) => svcType(s) === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
const externallyAccessible = (s: SvcSpec) => svcType(s) === 'LoadBalancer' || svcType(s) === 'NodePort' || (svcType(s) === 'ClusterIP' && (s.externalIPs ?? []).length > 0);
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * kube-apiserver's dropTypeDependentFields: when an update changes a Service's type, the values
 * the old type had allocated or defaulted (node ports, cluster IPs for ExternalName, the health
 * check port, allocateLoadBalancerNodePorts, loadBalancerClass, externalTrafficPolicy) are
 * dropped — but only those the user did not change in the same update — so `kubectl patch svc
 * -p '{"spec":{"type":"ClusterIP"}}'` works. A Service that is no longer a LoadBalancer loses its
 * load-balancer status.
 */
function dropTypeDependentFields(obj: KubeObject, old: KubeObject): void {
  const n = (obj.spec ?? {}) as SvcSpec;
  const o = (old.spec ?? {}) as SvcSpec;
  if (needsClusterIP(o) && !needsClusterIP(n)) {
    if (same(o.clusterIP, n.clusterIP) && same(o.clusterIPs, n.clusterIPs)) {
      delete n.clusterIP;
      delete n.clusterIPs;
    }
    if (same(o.ipFamilies, n.ipFamilies)) delete n.ipFamilies;
    if (same(o.ipFamilyPolicy, n.ipFamilyPolicy)) delete n.ipFamilyPolicy;
  }
  if (needsNodePort(o) && !needsNodePort(n) && same((o.ports ?? []).map((p) => p.nodePort), (n.ports ?? []).map((p) => p.nodePort))) {
    for (const p of n.ports ?? []) delete p.nodePort;
  }
  if (needsHCNodePort(o) && !needsHCNodePort(n) && same(o.healthCheckNodePort, n.healthCheckNodePort)) delete n.healthCheckNodePort;
  if (svcType(o) === 'LoadBalancer' && svcType(n) !== 'LoadBalancer') {
    if (n.allocateLoadBalancerNodePorts !== undefined && o.allocateLoadBalancerNodePorts !== undefined && o.allocateLoadBalancerNodePorts === n.allocateLoadBalancerNodePorts) {
      delete n.allocateLoadBalancerNodePorts;
    }
    if (same(o.loadBalancerClass, n.loadBalancerClass)) delete n.loadBalancerClass;
  }
  if (externallyAccessible(o) && !externallyAccessible(n) && same(o.externalTrafficPolicy, n.externalTrafficPolicy)) delete n.externalTrafficPolicy;
  if (svcType(n) !== 'LoadBalancer' && obj.status !== undefined) obj.status = { ...(obj.status as object), loadBalancer: {} };
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

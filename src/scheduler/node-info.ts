// The scheduler's resource arithmetic: what a pod asks for (api/pod-requests.ts, with and without
// the scheduler's defaults for unset CPU and memory), what a node offers, and the running sums the
// cache keeps per node. Every filter and scorer reads these numbers.
import type { Container } from 'kubernetes-types/core/v1.js';
import { isQualifiedName } from '../api/label-syntax.js';
import { podRequestList, resourceListOf, type ResourceList } from '../api/pod-requests.js';
import { emptyResources, type NodeInfo, type NodeObject, type Pod, type PodInfo, type Resources } from './framework.js';

/** The host IP a port without one binds (and conflicts with every IP). */
export const BIND_ALL_HOST_IP = '0.0.0.0';

// A global counter, as upstream's nextGeneration: a NodeInfo rebuilt from scratch (a node deleted and
// added again) never reuses a generation an older snapshot copy carries.
let lastGeneration = 0;
const nextGeneration = (): number => ++lastGeneration;

/**
 * Whether the scheduler accounts `name` as a scalar resource (schedutil.IsScalarResourceName):
 * extended resources (`example.com/gpu`), hugepages, `kubernetes.io/`-prefixed native resources
 * and attachable volumes. Other unknown names in a resource list are ignored, as upstream does.
 */
export function isScalarResourceName(name: string): boolean {
  return isExtendedResourceName(name) || name.startsWith('hugepages-') || name.includes('kubernetes.io/') || name.startsWith('attachable-volumes-');
}

/** v1helper.IsExtendedResourceName: a domain-prefixed name outside `kubernetes.io/` that would be a
 *  valid quota name once prefixed with `requests.`. */
export function isExtendedResourceName(name: string): boolean {
  if (!name.includes('/') || name.includes('kubernetes.io/') || name.startsWith('requests.')) return false;
  return isQualifiedName(`requests.${name}`).length === 0;
}

/** Converts a resource list (in scheduler units) into Resources; `pods` stays as given. */
function resourcesOf(list: ResourceList): Resources {
  const r = emptyResources();
  for (const [k, v] of list) {
    if (k === 'cpu') r.milliCPU = v;
    else if (k === 'memory') r.memory = v;
    else if (k === 'ephemeral-storage') r.ephemeralStorage = v;
    else if (k === 'pods') r.pods = v;
    else if (isScalarResourceName(k)) r.scalar[k] = v;
  }
  return r;
}

/** A resource list from the API (`status.allocatable`, `spec.overhead`, …) in scheduler units. */
export function resourcesFromList(map: Record<string, string> | undefined): Resources {
  return resourcesOf(resourceListOf(map));
}

function hostPortsOf(pod: Pod): string[] {
  const out: string[] = [];
  const spec = pod.spec;
  if (!spec) return out;
  // Sidecars run for the pod's whole life, so their host ports are held like the containers'.
  const containers = [...(spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always'), ...(spec.containers ?? [])];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort || p.hostPort <= 0) continue;
      out.push(hostPortKey(p.protocol, p.hostIP, p.hostPort));
    }
  }
  return out;
}

/** The `protocol/hostIP/port` key of a host port, with upstream's defaults (TCP, 0.0.0.0). */
export function hostPortKey(protocol: string | undefined, hostIP: string | undefined, port: number): string {
  return `${protocol || 'TCP'}/${hostIP || BIND_ALL_HOST_IP}/${port}`;
}

/**
 * What the scheduler needs to know about `pod`, computed once. `requests.pods` and
 * `nonZeroRequests.pods` are 1 (the pod slot it takes), so a node's `requested.pods` counts its
 * pods. The result shares `pod` (never mutate either); callers treat the PodInfo as immutable.
 */
export function podInfoOf(pod: Pod): PodInfo {
  const requests = resourcesOf(podRequestList(pod, false));
  const nonZeroRequests = resourcesOf(podRequestList(pod, true));
  requests.pods = 1;
  nonZeroRequests.pods = 1;
  const affinity = pod.spec?.affinity;
  return {
    pod,
    key: `${pod.metadata.namespace}/${pod.metadata.name}`,
    requests,
    nonZeroRequests,
    hostPorts: hostPortsOf(pod),
    hasAffinity: !!(affinity?.podAffinity || affinity?.podAntiAffinity),
    hasRequiredAntiAffinity: (affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length ?? 0) > 0,
  };
}

/** The node's allocatable resources; a node without `status.allocatable` offers its capacity,
 *  as the API server's defaulting of NodeStatus does. */
function allocatableOf(node: NodeObject): Resources {
  const status = node.status;
  return resourcesFromList((status?.allocatable ?? status?.capacity) as Record<string, string> | undefined);
}

/** A NodeInfo for `node` with no pods yet. The caller (the cache) owns it. */
export function nodeInfoOf(node: NodeObject): NodeInfo {
  return {
    node,
    name: node.metadata.name ?? '',
    pods: [],
    requested: emptyResources(),
    nonZeroRequested: emptyResources(),
    allocatable: allocatableOf(node),
    usedPorts: new Set(),
    podsWithAffinity: [],
    podsWithRequiredAntiAffinity: [],
    generation: nextGeneration(),
  };
}

/** The node object changed (labels, taints, allocatable, …): recompute what comes from it and
 *  keep the pods. */
export function setNodeObject(ni: NodeInfo, node: NodeObject): void {
  ni.node = node;
  ni.name = node.metadata.name ?? ni.name;
  ni.allocatable = allocatableOf(node);
  ni.generation = nextGeneration();
}

function addInto(into: Resources, r: Resources, sign: 1 | -1): void {
  into.milliCPU += sign * r.milliCPU;
  into.memory += sign * r.memory;
  into.ephemeralStorage += sign * r.ephemeralStorage;
  into.pods += sign * r.pods;
  for (const [k, v] of Object.entries(r.scalar)) into.scalar[k] = (into.scalar[k] ?? 0) + sign * v;
}

/** Counts `pi` on the node (bound or assumed). The caller makes sure it is not there already. */
export function addPodToNode(ni: NodeInfo, pi: PodInfo): void {
  ni.pods.push(pi);
  addInto(ni.requested, pi.requests, 1);
  addInto(ni.nonZeroRequested, pi.nonZeroRequests, 1);
  for (const p of pi.hostPorts) ni.usedPorts.add(p);
  if (pi.hasAffinity) ni.podsWithAffinity.push(pi);
  if (pi.hasRequiredAntiAffinity) ni.podsWithRequiredAntiAffinity.push(pi);
  ni.generation = nextGeneration();
}

/** Stops counting the pod with `key` (`namespace/name`) on the node; false when it was not there. */
export function removePodFromNode(ni: NodeInfo, key: string): boolean {
  const i = ni.pods.findIndex((p) => p.key === key);
  if (i < 0) return false;
  const pi = ni.pods[i]!;
  ni.pods.splice(i, 1);
  addInto(ni.requested, pi.requests, -1);
  addInto(ni.nonZeroRequested, pi.nonZeroRequests, -1);
  if (pi.hostPorts.length > 0) {
    // Recount from the remaining pods: two pods bound to the same port (by nodeName, bypassing
    // the scheduler) must not free it when only one of them goes.
    ni.usedPorts.clear();
    for (const p of ni.pods) for (const hp of p.hostPorts) ni.usedPorts.add(hp);
  }
  if (pi.hasAffinity) ni.podsWithAffinity = ni.podsWithAffinity.filter((p) => p !== pi);
  if (pi.hasRequiredAntiAffinity) ni.podsWithRequiredAntiAffinity = ni.podsWithRequiredAntiAffinity.filter((p) => p !== pi);
  ni.generation = nextGeneration();
  return true;
}

function cloneResources(r: Resources): Resources {
  return { ...r, scalar: { ...r.scalar } };
}

/** A copy the snapshot owns: its arrays, sets and sums are its own, while the node object and the
 *  PodInfos (immutable) are shared. Keeps the generation, so the cache can tell it is current. */
export function cloneNodeInfo(ni: NodeInfo): NodeInfo {
  return {
    node: ni.node,
    name: ni.name,
    pods: [...ni.pods],
    requested: cloneResources(ni.requested),
    nonZeroRequested: cloneResources(ni.nonZeroRequested),
    allocatable: cloneResources(ni.allocatable),
    usedPorts: new Set(ni.usedPorts),
    podsWithAffinity: [...ni.podsWithAffinity],
    podsWithRequiredAntiAffinity: [...ni.podsWithRequiredAntiAffinity],
    generation: ni.generation,
  };
}

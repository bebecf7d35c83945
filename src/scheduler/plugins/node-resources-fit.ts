// NodeResourcesFit's filter, as Kubernetes 1.32's pkg/scheduler/framework/plugins/noderesources
// (fit.go): a pod fits a node when its effective requests (node-info.ts) fit in what the node's
// pods have not already requested, and the node has a pod slot left. The scoring strategies live
// in least-allocated.ts and balanced-allocation.ts; the arithmetic they share with upstream's
// resource_allocation.go is here.
import type { CycleContext, FilterResult, NodeInfo, Plugin, Resources } from '../framework.js';
import { isScalarResourceName } from '../node-info.js';

export const NODE_RESOURCES_FIT = 'NodeResourcesFit';
export const ERR_REASON_TOO_MANY_PODS = 'Too many pods';

/** One resource the node lacks for the pod, as upstream's InsufficientResource. */
export interface InsufficientResource {
  resourceName: string;
  /** `Insufficient <name>` or `Too many pods`. */
  reason: string;
  requested: number;
  used: number;
  capacity: number;
  /** The pod asks for more than the whole node offers: evicting pods would not help. */
  unresolvable: boolean;
}

/** Whether the pod fits the node, without building reasons: the filter's fast path, called for
 *  thousands of nodes per pod. Agrees with `insufficientResources(pod, ni).length === 0`. */
export function fitsResources(pod: Resources, ni: NodeInfo): boolean {
  const alloc = ni.allocatable;
  const used = ni.requested;
  if (ni.pods.length + 1 > alloc.pods) return false;
  if (pod.milliCPU > 0 && pod.milliCPU > alloc.milliCPU - used.milliCPU) return false;
  if (pod.memory > 0 && pod.memory > alloc.memory - used.memory) return false;
  if (pod.ephemeralStorage > 0 && pod.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) return false;
  for (const name in pod.scalar) {
    const want = pod.scalar[name] ?? 0;
    if (want > 0 && want > (alloc.scalar[name] ?? 0) - (used.scalar[name] ?? 0)) return false;
  }
  return true;
}

/** What the pod lacks on the node (fitsRequest), in upstream's order: pods, cpu, memory,
 *  ephemeral-storage, then scalar resources; empty when it fits. */
export function insufficientResources(pod: Resources, ni: NodeInfo): InsufficientResource[] {
  const out: InsufficientResource[] = [];
  const alloc = ni.allocatable;
  const used = ni.requested;
  if (ni.pods.length + 1 > alloc.pods) {
    out.push({ resourceName: 'pods', reason: ERR_REASON_TOO_MANY_PODS, requested: 1, used: ni.pods.length, capacity: alloc.pods, unresolvable: false });
  }
  const scalarNames = Object.keys(pod.scalar);
  if (pod.milliCPU === 0 && pod.memory === 0 && pod.ephemeralStorage === 0 && scalarNames.length === 0) return out;
  const check = (name: string, want: number, usedAmount: number, capacity: number) => {
    if (want > 0 && want > capacity - usedAmount) {
      out.push({ resourceName: name, reason: `Insufficient ${name}`, requested: want, used: usedAmount, capacity, unresolvable: want > capacity });
    }
  };
  check('cpu', pod.milliCPU, used.milliCPU, alloc.milliCPU);
  check('memory', pod.memory, used.memory, alloc.memory);
  check('ephemeral-storage', pod.ephemeralStorage, used.ephemeralStorage, alloc.ephemeralStorage);
  for (const name of scalarNames) check(name, pod.scalar[name] ?? 0, used.scalar[name] ?? 0, alloc.scalar[name] ?? 0);
  return out;
}

export const nodeResourcesFit: Plugin = {
  name: NODE_RESOURCES_FIT,

  filter(ctx: CycleContext, ni: NodeInfo): FilterResult {
    if (fitsResources(ctx.pod.requests, ni)) return undefined;
    const lacking = insufficientResources(ctx.pod.requests, ni);
    if (lacking.length === 0) return undefined;
    return { reasons: lacking.map((r) => r.reason), unresolvable: lacking.some((r) => r.unresolvable) };
  },
};

/** A resource a scoring strategy looks at, with its weight (upstream's ResourceSpec). */
export interface ResourceSpec {
  name: string;
  weight: number;
}

/** Upstream's default for both LeastAllocated and BalancedAllocation: cpu and memory, weight 1. */
export const DEFAULT_SCORED_RESOURCES: readonly ResourceSpec[] = Object.freeze([
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
]);

/** Whether `resources` is exactly cpu and memory with weight 1: the scorers then take a fast path
 *  that needs no arrays (they run for every feasible node of every pod). */
export function isDefaultScoredResources(resources: readonly ResourceSpec[]): boolean {
  return resources.length === 2 && resources.every((r, i) => r.name === DEFAULT_SCORED_RESOURCES[i]!.name && r.weight === 1);
}

function amountOf(r: Resources, name: string): number {
  switch (name) {
    case 'cpu':
      return r.milliCPU;
    case 'memory':
      return r.memory;
    case 'ephemeral-storage':
      return r.ephemeralStorage;
    default:
      return r.scalar[name] ?? 0;
  }
}

/**
 * For each of `resources`: the node's allocatable amount and what it would have requested with the
 * pod on it (resourceAllocationScorer.calculateResourceAllocatableRequest). `useRequested` false
 * counts CPU and memory with the scheduler's defaults for unset requests (LeastAllocated), true
 * with the requests as written (BalancedAllocation). A scalar resource the pod does not ask for,
 * or one the node does not offer, comes back as 0/0: the scorers skip it.
 */
export function allocatableAndRequested(ctx: CycleContext, ni: NodeInfo, resources: readonly ResourceSpec[], useRequested: boolean): { allocatable: number[]; requested: number[] } {
  const podReqs = useRequested ? ctx.pod.requests : ctx.pod.nonZeroRequests;
  const allocatable: number[] = [];
  const requested: number[] = [];
  for (const { name } of resources) {
    const podRequest = amountOf(podReqs, name);
    let alloc = 0;
    let req = 0;
    if (name === 'cpu' || name === 'memory') {
      alloc = amountOf(ni.allocatable, name);
      req = amountOf(useRequested ? ni.requested : ni.nonZeroRequested, name) + podRequest;
    } else if (name === 'ephemeral-storage') {
      alloc = ni.allocatable.ephemeralStorage;
      req = ni.requested.ephemeralStorage + podRequest;
    } else if (!(podRequest === 0 && isScalarResourceName(name)) && name in ni.allocatable.scalar) {
      alloc = ni.allocatable.scalar[name] ?? 0;
      req = (ni.requested.scalar[name] ?? 0) + podRequest;
    }
    allocatable.push(alloc);
    requested.push(alloc === 0 ? 0 : req);
  }
  return { allocatable, requested };
}

// NodeResourcesFit's default scoring strategy, LeastAllocated (Kubernetes 1.32's
// noderesources/least_allocated.go): prefer the node with the most room left once the pod is on
// it, per resource ((allocatable - requested) × 100 / allocatable, integer division), averaged by
// weight. CPU and memory count with the scheduler's defaults for unset requests (100m, 200Mi), so
// pods without requests still spread.
import { MAX_NODE_SCORE, type CycleContext, type NodeInfo, type Plugin } from '../framework.js';
import { allocatableAndRequested, DEFAULT_SCORED_RESOURCES, isDefaultScoredResources, type ResourceSpec } from './node-resources-fit.js';

/** Upstream's old name for this scorer; it is a separate plugin object here, so it gets its own
 *  name rather than sharing NodeResourcesFit's. */
export const NODE_RESOURCES_LEAST_ALLOCATED = 'NodeResourcesLeastAllocated';

/** leastRequestedScore: the share of `capacity` left free, 0…MAX_NODE_SCORE. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** leastResourceScorer: the weighted mean of the per-resource scores over the resources the node
 *  offers (integer division, as upstream). */
export function leastAllocatedScore(requested: readonly number[], allocatable: readonly number[], resources: readonly ResourceSpec[]): number {
  let score = 0;
  let weightSum = 0;
  for (let i = 0; i < resources.length; i++) {
    const alloc = allocatable[i] ?? 0;
    if (alloc === 0) continue;
    const weight = resources[i]!.weight;
    score += leastRequestedScore(requested[i] ?? 0, alloc) * weight;
    weightSum += weight;
  }
  return weightSum === 0 ? 0 : Math.floor(score / weightSum);
}

/** A LeastAllocated scorer over `resources` (upstream's scoringStrategy.resources). */
export function leastAllocatedPlugin(resources: readonly ResourceSpec[] = DEFAULT_SCORED_RESOURCES): Plugin {
  const fast = isDefaultScoredResources(resources);
  return {
    name: NODE_RESOURCES_LEAST_ALLOCATED,
    score(ctx: CycleContext, ni: NodeInfo): number {
      if (fast) return cpuMemoryScore(ctx, ni);
      const { allocatable, requested } = allocatableAndRequested(ctx, ni, resources, false);
      return leastAllocatedScore(requested, allocatable, resources);
    },
  };
}

/** leastAllocatedScore for cpu and memory with weight 1, without the arrays. */
function cpuMemoryScore(ctx: CycleContext, ni: NodeInfo): number {
  const alloc = ni.allocatable;
  const used = ni.nonZeroRequested;
  const pod = ctx.pod.nonZeroRequests;
  let score = 0;
  let weightSum = 0;
  if (alloc.milliCPU !== 0) {
    score += leastRequestedScore(used.milliCPU + pod.milliCPU, alloc.milliCPU);
    weightSum++;
  }
  if (alloc.memory !== 0) {
    score += leastRequestedScore(used.memory + pod.memory, alloc.memory);
    weightSum++;
  }
  return weightSum === 0 ? 0 : Math.floor(score / weightSum);
}

/** The default: cpu and memory, weight 1 each. Scores are already 0…100: no normalization. */
export const leastAllocated: Plugin = leastAllocatedPlugin();

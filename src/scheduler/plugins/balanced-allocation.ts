// NodeResourcesBalancedAllocation, as Kubernetes 1.32's noderesources/balanced_allocation.go:
// prefer the node whose resources would be used most evenly with the pod on it — score
// (1 - std) × 100 over the fractions requested/allocatable (each capped at 1). Unlike
// LeastAllocated, upstream counts the requests as written here (`useRequested: true`), without the
// defaults for unset CPU and memory.
import { MAX_NODE_SCORE, type CycleContext, type NodeInfo, type Plugin } from '../framework.js';
import { allocatableAndRequested, DEFAULT_SCORED_RESOURCES, isDefaultScoredResources, type ResourceSpec } from './node-resources-fit.js';

export const NODE_RESOURCES_BALANCED_ALLOCATION = 'NodeResourcesBalancedAllocation';

/** balancedResourceScorer: with two resources std = |f1 - f2| / 2; with more, the population
 *  standard deviation; with one or none, 0. Truncated to an integer, as upstream's int64(). */
export function balancedScore(requested: readonly number[], allocatable: readonly number[]): number {
  const fractions: number[] = [];
  let total = 0;
  for (let i = 0; i < requested.length; i++) {
    const alloc = allocatable[i] ?? 0;
    if (alloc === 0) continue;
    const f = Math.min(1, (requested[i] ?? 0) / alloc);
    total += f;
    fractions.push(f);
  }
  let std = 0;
  if (fractions.length === 2) {
    std = Math.abs((fractions[0]! - fractions[1]!) / 2);
  } else if (fractions.length > 2) {
    const mean = total / fractions.length;
    let sum = 0;
    for (const f of fractions) sum += (f - mean) * (f - mean);
    std = Math.sqrt(sum / fractions.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

/** A BalancedAllocation scorer over `resources` (weights are not used by this strategy). */
export function balancedAllocationPlugin(resources: readonly ResourceSpec[] = DEFAULT_SCORED_RESOURCES): Plugin {
  const fast = isDefaultScoredResources(resources);
  return {
    name: NODE_RESOURCES_BALANCED_ALLOCATION,
    score(ctx: CycleContext, ni: NodeInfo): number {
      if (fast) return cpuMemoryScore(ctx, ni);
      const { allocatable, requested } = allocatableAndRequested(ctx, ni, resources, true);
      return balancedScore(requested, allocatable);
    },
  };
}

/** balancedScore for cpu and memory, without the arrays. */
function cpuMemoryScore(ctx: CycleContext, ni: NodeInfo): number {
  const alloc = ni.allocatable;
  const used = ni.requested;
  const pod = ctx.pod.requests;
  if (alloc.milliCPU === 0 || alloc.memory === 0) return MAX_NODE_SCORE; // one fraction or none: std 0
  const cpu = Math.min(1, (used.milliCPU + pod.milliCPU) / alloc.milliCPU);
  const memory = Math.min(1, (used.memory + pod.memory) / alloc.memory);
  return Math.trunc((1 - Math.abs((cpu - memory) / 2)) * MAX_NODE_SCORE);
}

/** The default: cpu and memory. Scores are already 0…100: no normalization. */
export const balancedAllocation: Plugin = balancedAllocationPlugin();

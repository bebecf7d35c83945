// The default scheduling profile, as plain data: which plugins run, in Kubernetes' default
// filter order, and how much each one's score weighs (pkg/scheduler/apis/config/v1 defaults).
import type { Profile } from '../framework.js';
import { balancedAllocation } from './balanced-allocation.js';
import { interPodAffinity } from './inter-pod-affinity.js';
import { leastAllocated } from './least-allocated.js';
import { nodeAffinity } from './node-affinity.js';
import { nodeName } from './node-name.js';
import { nodePorts } from './node-ports.js';
import { nodeResourcesFit } from './node-resources-fit.js';
import { nodeUnschedulable } from './node-unschedulable.js';
import { podTopologySpread } from './pod-topology-spread.js';
import { taintToleration } from './taint-toleration.js';

export function defaultProfile(): Profile {
  return {
    schedulerName: 'default-scheduler',
    percentageOfNodesToScore: 0, // adaptive, as upstream
    plugins: [
      { plugin: nodeUnschedulable, weight: 0 },
      { plugin: nodeName, weight: 0 },
      { plugin: taintToleration, weight: 3 },
      { plugin: nodeAffinity, weight: 2 },
      { plugin: nodePorts, weight: 0 },
      { plugin: nodeResourcesFit, weight: 0 },
      { plugin: podTopologySpread, weight: 2 },
      { plugin: interPodAffinity, weight: 2 },
      { plugin: leastAllocated, weight: 1 },
      { plugin: balancedAllocation, weight: 1 },
    ],
  };
}

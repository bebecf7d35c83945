// The scheduling framework's shapes (Kubernetes' pkg/scheduler/framework, kept small): what a
// plugin sees — the pod being scheduled and the cluster snapshot with each node's pods and
// summed requests — and what it may answer. Plugins are plain objects of pure functions listed
// in plugins/index.ts; the loop in scheduler.ts runs them.
import type { Node, NodeSpec, NodeStatus, PodSpec, PodStatus } from 'kubernetes-types/core/v1.js';
import type { KubeObject, ObjectMeta } from '../api/types.js';

export type Pod = KubeObject & { metadata: ObjectMeta; spec?: PodSpec; status?: PodStatus };
export type NodeObject = KubeObject & { metadata: ObjectMeta; spec?: NodeSpec; status?: NodeStatus };
export type { Node };

/** Amounts in the scheduler's units: CPU in millicores, memory and storage in bytes. */
export interface Resources {
  milliCPU: number;
  memory: number;
  ephemeralStorage: number;
  /** Number of pods (for allocatable: the `pods` capacity). */
  pods: number;
  /** Extended resources (`nvidia.com/gpu`, `hugepages-2Mi`, …) by name, in their integer units. */
  scalar: Record<string, number>;
}

/** A pod with what the scheduler computes from it once. Never mutate `pod`. */
export interface PodInfo {
  pod: Pod;
  /** `namespace/name` */
  key: string;
  /** Effective requests: max(sum of containers, largest init container) + overhead, as
   *  Kubernetes' resource helpers compute them (sidecar init containers count as containers). */
  requests: Resources;
  /** The same with Kubernetes' defaults for unset CPU (100m) and memory (200Mi), for scoring. */
  nonZeroRequests: Resources;
  /** Host ports the pod asks for: `protocol/hostIP/port`. */
  hostPorts: string[];
  /** Whether the pod has (anti-)affinity terms: lets InterPodAffinity skip most nodes. */
  hasAffinity: boolean;
  hasRequiredAntiAffinity: boolean;
}

/** A node with its pods (bound or assumed) and their sums. Owned by the scheduler's cache. */
export interface NodeInfo {
  node: NodeObject;
  name: string;
  pods: PodInfo[];
  requested: Resources;
  nonZeroRequested: Resources;
  allocatable: Resources;
  /** Host ports in use on the node: `protocol/hostIP/port`. */
  usedPorts: Set<string>;
  podsWithAffinity: PodInfo[];
  podsWithRequiredAntiAffinity: PodInfo[];
  /** Moves whenever anything above changes (the snapshot copies only changed nodes). */
  generation: number;
}

/** A consistent view of the cluster for one scheduling cycle. */
export interface Snapshot {
  nodes: NodeInfo[];
  get(name: string): NodeInfo | undefined;
  /** Nodes with at least one pod that has affinity / required anti-affinity terms. */
  havePodsWithAffinity: NodeInfo[];
  havePodsWithRequiredAntiAffinity: NodeInfo[];
  /** Namespace labels, for namespaceSelector in pod affinity terms. */
  namespaceLabels(namespace: string): Record<string, string> | undefined;
}

/** Per-pod, per-cycle scratch space: plugins keep what preFilter/preScore computed here, keyed by plugin name. */
export type CycleState = Map<string, unknown>;

export interface CycleContext {
  pod: PodInfo;
  snapshot: Snapshot;
  state: CycleState;
}

/**
 * The outcome of a filter or pre-filter: `undefined` means success; otherwise the reasons (as
 * Kubernetes words them, e.g. `Insufficient cpu`, `node(s) didn't match Pod's node
 * affinity/selector`) counted into the FailedScheduling message. `unresolvable` marks failures
 * that evicting pods could not cure (UnschedulableAndUnresolvable upstream).
 */
export interface FilterFailure {
  reasons: string[];
  unresolvable?: boolean;
}

export type FilterResult = FilterFailure | undefined;

export const MAX_NODE_SCORE = 100;

export interface Plugin {
  name: string;
  /** Once per pod before filtering: precompute into `ctx.state`; a failure rejects every node.
   *  `'skip'` says the pod asks nothing of this plugin (no host ports, no affinity, …), so its
   *  filter is not run for this pod — upstream's PreFilter Skip status. */
  preFilter?(ctx: CycleContext): FilterResult | 'skip';
  /** Whether the pod fits `node`. */
  filter?(ctx: CycleContext, node: NodeInfo): FilterResult;
  /** Once per pod before scoring, with the nodes that passed filtering. Returning `'skip'`
   *  says there is nothing to score for this pod (every node would get the same score), so the
   *  loop skips score and normalizeScore — upstream's PreScore Skip status. */
  preScore?(ctx: CycleContext, nodes: NodeInfo[]): void | 'skip';
  /** A score for `node`, in the plugin's own range (normalizeScore maps it to 0…MAX_NODE_SCORE). */
  score?(ctx: CycleContext, node: NodeInfo): number;
  /** Rescales the scores of all nodes in place to 0…MAX_NODE_SCORE. */
  normalizeScore?(ctx: CycleContext, scores: Map<string, number>): void;
}

/** Which plugins run and how much each score weighs: plain data. */
export interface Profile {
  schedulerName: string;
  plugins: { plugin: Plugin; weight: number }[];
  /** Kubernetes' percentageOfNodesToScore (0: adaptive, as upstream). */
  percentageOfNodesToScore: number;
}

export function emptyResources(): Resources {
  return { milliCPU: 0, memory: 0, ephemeralStorage: 0, pods: 0, scalar: {} };
}

// Builders for scheduler plugin tables: nodes, pods and a Snapshot assembled by hand (with the
// cache's own node-info helpers), and runners that drive one plugin through a scheduling cycle the
// way the scheduler loop does (preFilter once, filter per node; preScore, score, normalizeScore).
import type { Affinity, Taint, Toleration, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import type { CycleContext, FilterResult, NodeInfo, NodeObject, Plugin, Pod, Snapshot } from '../../../src/scheduler/framework.js';
import { addPodToNode, nodeInfoOf, podInfoOf } from '../../../src/scheduler/node-info.js';

/** A node named `name` with these labels (plus `kubernetes.io/hostname: name`, as kubelet sets it
 *  unless `hostname: false`), and optional taints. */
export function node(name: string, labels: Record<string, string> = {}, opts: { taints?: Taint[]; hostname?: boolean } = {}): NodeObject {
  const all = opts.hostname === false ? { ...labels } : { 'kubernetes.io/hostname': name, ...labels };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: all },
    spec: opts.taints ? { taints: opts.taints } : {},
    status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' } },
  };
}

export interface PodOptions {
  namespace?: string;
  labels?: Record<string, string>;
  /** The node it is bound to (existing pods). */
  node?: string;
  affinity?: Affinity;
  spread?: TopologySpreadConstraint[];
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  terminating?: boolean;
}

/** A pod `namespace/name` (namespace `default` unless given) with one container. */
export function pod(name: string, o: PodOptions = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: o.namespace ?? 'default',
      labels: o.labels ?? {},
      ...(o.terminating ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}),
    },
    spec: {
      containers: [{ name: 'c', image: 'nginx' }],
      ...(o.node ? { nodeName: o.node } : {}),
      ...(o.affinity ? { affinity: o.affinity } : {}),
      ...(o.spread ? { topologySpreadConstraints: o.spread } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
    },
  };
}

/** A Snapshot of `nodes` with `pods` placed on their `spec.nodeName`, and namespaces with labels
 *  (a namespace not listed does not exist). */
export function snapshotOf(nodes: NodeObject[], pods: Pod[] = [], namespaces: Record<string, Record<string, string>> = { default: {} }): Snapshot {
  const infos = nodes.map(nodeInfoOf);
  const byName = new Map(infos.map((ni) => [ni.name, ni]));
  for (const p of pods) {
    const ni = byName.get(p.spec?.nodeName ?? '');
    if (!ni) throw new Error(`pod ${p.metadata.name} is not bound to a known node`);
    addPodToNode(ni, podInfoOf(p));
  }
  return {
    nodes: infos,
    get: (name) => byName.get(name),
    havePodsWithAffinity: infos.filter((ni) => ni.podsWithAffinity.length > 0),
    havePodsWithRequiredAntiAffinity: infos.filter((ni) => ni.podsWithRequiredAntiAffinity.length > 0),
    namespaceLabels: (ns) => namespaces[ns],
  };
}

export function cycleOf(p: Pod, snapshot: Snapshot): CycleContext {
  return { pod: podInfoOf(p), snapshot, state: new Map() };
}

/** Runs preFilter then filter on every node; a preFilter failure applies to all nodes. Returns
 *  node name → the outcome (undefined: fits). */
export function runFilter(plugin: Plugin, p: Pod, snapshot: Snapshot): Map<string, FilterResult> {
  const ctx = cycleOf(p, snapshot);
  const out = new Map<string, FilterResult>();
  const pre = plugin.preFilter?.(ctx);
  // 'skip': the pod asks nothing of this plugin, and the loop runs no filter — every node fits
  for (const ni of snapshot.nodes) out.set(ni.name, pre === 'skip' ? undefined : (pre ?? plugin.filter?.(ctx, ni)));
  return out;
}

/** The names of the nodes the pod fits on, in snapshot order. */
export function feasible(plugin: Plugin, p: Pod, snapshot: Snapshot): string[] {
  return [...runFilter(plugin, p, snapshot)].filter(([, r]) => r === undefined).map(([n]) => n);
}

/** Node name → first failure reason, for the nodes that fail. */
export function reasons(plugin: Plugin, p: Pod, snapshot: Snapshot): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [n, r] of runFilter(plugin, p, snapshot)) if (r) out[n] = r.reasons.join(', ');
  return out;
}

/** Scores `nodes` (default: every node of the snapshot) as the loop does: preScore with the
 *  candidate nodes, score each, normalizeScore. Returns node name → normalized score. */
export function runScore(plugin: Plugin, p: Pod, snapshot: Snapshot, nodes?: NodeInfo[]): Record<string, number> {
  const ctx = cycleOf(p, snapshot);
  const candidates = nodes ?? snapshot.nodes;
  plugin.preScore?.(ctx, candidates);
  const scores = new Map<string, number>();
  for (const ni of candidates) scores.set(ni.name, plugin.score!(ctx, ni));
  plugin.normalizeScore?.(ctx, scores);
  return Object.fromEntries(scores);
}

// Small builders for the node-level plugin tests: pods, containers and nodes written as the API
// would hold them, NodeInfos filled through node-info.ts, and runners that drive a plugin through
// its extension points the way the scheduler loop does.
import type { Container, PodSpec, Taint } from 'kubernetes-types/core/v1.js';
import type { CycleContext, NodeInfo, NodeObject, Plugin, Pod, Snapshot } from '../../../src/scheduler/framework.js';
import { addPodToNode, nodeInfoOf, podInfoOf } from '../../../src/scheduler/node-info.js';

let containerCounter = 0;

/** A container requesting `requests` (e.g. `{ cpu: '500m', memory: '1Gi' }`). */
export function container(requests?: Record<string, string>, extra: Partial<Container> = {}): Container {
  return { name: `c${++containerCounter}`, image: 'busybox', ...(requests ? { resources: { requests } } : {}), ...extra };
}

let podCounter = 0;

/** A pod in `default` with the given spec (containers default to one without requests). */
export function pod(spec: Partial<PodSpec> = {}, name = `p${++podCounter}`, namespace = 'default'): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace }, spec: { containers: [container()], ...spec } };
}

export interface NodeOptions {
  allocatable?: Record<string, string>;
  capacity?: Record<string, string>;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
}

/** A node; allocatable defaults to 4 CPUs, 8Gi, 110 pods. */
export function node(name: string, o: NodeOptions = {}): NodeObject {
  const allocatable = o.allocatable ?? (o.capacity ? undefined : { cpu: '4', memory: '8Gi', pods: '110' });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: { ...(allocatable ? { allocatable } : {}), ...(o.capacity ? { capacity: o.capacity } : {}) },
  };
}

/** A NodeInfo for `n` with `pods` counted on it. */
export function nodeInfo(n: NodeObject, ...pods: Pod[]): NodeInfo {
  const ni = nodeInfoOf(n);
  for (const p of pods) addPodToNode(ni, podInfoOf(p));
  return ni;
}

export function snapshotOf(nodes: NodeInfo[]): Snapshot {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  return {
    nodes,
    get: (name) => byName.get(name),
    havePodsWithAffinity: nodes.filter((n) => n.podsWithAffinity.length > 0),
    havePodsWithRequiredAntiAffinity: nodes.filter((n) => n.podsWithRequiredAntiAffinity.length > 0),
    namespaceLabels: () => undefined,
  };
}

export function contextFor(p: Pod, nodes: NodeInfo[] = []): CycleContext {
  return { pod: podInfoOf(p), snapshot: snapshotOf(nodes), state: new Map() };
}

/** Runs preFilter then filter for one node, as the scheduler does; returns the reasons (empty when it fits). */
export function filterReasons(plugin: Plugin, p: Pod, ni: NodeInfo): { reasons: string[]; unresolvable: boolean } {
  const ctx = contextFor(p, [ni]);
  const pre = plugin.preFilter?.(ctx);
  if (pre === 'skip') return { reasons: [], unresolvable: false }; // the loop runs no filter then
  if (pre) return { reasons: pre.reasons, unresolvable: !!pre.unresolvable };
  const r = plugin.filter?.(ctx, ni);
  return { reasons: r?.reasons ?? [], unresolvable: !!r?.unresolvable };
}

/** Runs preScore, score and normalizeScore over `nodes`; returns the final score of each node by name. */
export function scores(plugin: Plugin, p: Pod, nodes: NodeInfo[]): Record<string, number> {
  const ctx = contextFor(p, nodes);
  plugin.preScore?.(ctx, nodes);
  const m = new Map<string, number>();
  for (const n of nodes) m.set(n.name, plugin.score!(ctx, n));
  plugin.normalizeScore?.(ctx, m);
  return Object.fromEntries(m);
}

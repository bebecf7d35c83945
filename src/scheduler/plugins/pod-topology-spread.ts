// PodTopologySpread, as Kubernetes 1.32's pkg/scheduler/framework/plugins/podtopologyspread does
// it for the pod's own `topologySpreadConstraints`: DoNotSchedule constraints filter (the skew a
// node's domain would reach must stay within maxSkew, with minDomains), ScheduleAnyway constraints
// score (fewer matching pods in the domain is better). Only pods in the incoming pod's namespace
// that match the constraint's selector (plus matchLabelKeys) count; terminating pods do not.
// Which nodes' domains count is decided by nodeAffinityPolicy (default Honor: the pod's
// nodeSelector and required node affinity) and nodeTaintsPolicy (default Ignore).
//
// Not done: the cluster-level default constraints (upstream's `defaultingType: System`, applied to
// pods of Services/ReplicaSets/StatefulSets without constraints): they need listers of those
// objects, which the Snapshot does not carry.
import type { NodeSelectorRequirement, NodeSelectorTerm, Taint, Toleration, TopologySpreadConstraint } from 'kubernetes-types/core/v1.js';
import { isEverything, labelSelectorFromObject, matches, selectorFromSet, type LabelOperator, type Selector } from '../../api/selectors.js';
import { MAX_NODE_SCORE, type CycleContext, type FilterFailure, type NodeInfo, type NodeObject, type Plugin, type Pod, type PodInfo } from '../framework.js';

export const POD_TOPOLOGY_SPREAD = 'PodTopologySpread';
export const ERR_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_NODE_LABEL_NOT_MATCH = `${ERR_CONSTRAINTS_NOT_MATCH} (missing required label)`;
export const LABEL_HOSTNAME = 'kubernetes.io/hostname';

type Policy = 'Honor' | 'Ignore';

/** A spread constraint with its selector built and its defaults applied. */
export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  selector: Selector;
  minDomains: number;
  nodeAffinityPolicy: Policy;
  nodeTaintsPolicy: Policy;
}

/**
 * The pod's constraints with `whenUnsatisfiable === action`: the selector is the labelSelector
 * (absent: selects nothing) AND-ed with `key=<pod's value>` for each matchLabelKeys key the pod
 * has; minDomains defaults to 1, nodeAffinityPolicy to Honor, nodeTaintsPolicy to Ignore.
 * Throws a 400 StatusError when a selector does not parse.
 */
export function spreadConstraintsOf(pod: Pod, action: 'DoNotSchedule' | 'ScheduleAnyway'): SpreadConstraint[] {
  const out: SpreadConstraint[] = [];
  for (const c of pod.spec?.topologySpreadConstraints ?? []) {
    if (c.whenUnsatisfiable !== action) continue;
    out.push({
      maxSkew: c.maxSkew,
      topologyKey: c.topologyKey,
      selector: selectorOf(c, pod.metadata.labels ?? {}),
      minDomains: c.minDomains ?? 1,
      nodeAffinityPolicy: (c.nodeAffinityPolicy as Policy | undefined) ?? 'Honor',
      nodeTaintsPolicy: (c.nodeTaintsPolicy as Policy | undefined) ?? 'Ignore',
    });
  }
  return out;
}

function selectorOf(c: TopologySpreadConstraint, podLabels: Record<string, string>): Selector {
  const sel = labelSelectorFromObject(c.labelSelector);
  const own: Record<string, string> = {};
  for (const k of c.matchLabelKeys ?? []) {
    const v = podLabels[k];
    if (v !== undefined) own[k] = v;
  }
  // Upstream's mergeLabelSetWithSelector: a selector of nothing stays nothing.
  if (Object.keys(own).length === 0 || sel.nothing) return sel;
  const reqs = [...selectorFromSet(own).requirements, ...sel.requirements];
  return { requirements: reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) };
}

/** Pods on the node in namespace `ns`, not terminating, whose labels match (countPodsMatchSelector:
 *  a selector that selects everything counts nothing, as upstream's `selector.Empty()` check). */
export function countMatchingPods(pods: PodInfo[], selector: Selector, ns: string): number {
  if (isEverything(selector)) return 0;
  let n = 0;
  for (const { pod } of pods) {
    if (pod.metadata.deletionTimestamp || pod.metadata.namespace !== ns) continue;
    if (matches(selector, pod.metadata.labels)) n++;
  }
  return n;
}

const labelsOf = (ni: NodeInfo): Record<string, string> => ni.node.metadata.labels ?? {};

function hasAllTopologyKeys(labels: Record<string, string>, constraints: SpreadConstraint[]): boolean {
  return constraints.every((c) => labels[c.topologyKey] !== undefined);
}

// ---- node inclusion policies ----

const NODE_OPERATORS: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!', Gt: 'gt', Lt: 'lt' };

/** One nodeSelectorTerm: all its expressions (on labels) and fields (`metadata.name` only) hold.
 *  A term with neither, or with an unknown operator or field, matches no node (upstream skips
 *  terms that do not parse). */
function termMatchesNode(term: NodeSelectorTerm, node: NodeObject): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  const req = (r: NodeSelectorRequirement, value: Record<string, string>) => {
    const op = NODE_OPERATORS[r.operator];
    return op !== undefined && matches({ requirements: [{ key: r.key, operator: op, values: r.values ?? [] }] }, value);
  };
  if (!exprs.every((r) => req(r, labels))) return false;
  return fields.every((r) => r.key === 'metadata.name' && (r.operator === 'In' || r.operator === 'NotIn') && r.values?.length === 1 && req(r, { 'metadata.name': node.metadata.name ?? '' }));
}

/** nodeaffinity.GetRequiredNodeAffinity(pod).Match: the pod's nodeSelector and the OR of its
 *  required nodeSelectorTerms. */
function requiredNodeAffinity(pod: Pod): (node: NodeObject) => boolean {
  const nodeSelector = pod.spec?.nodeSelector;
  const selector = nodeSelector && Object.keys(nodeSelector).length ? selectorFromSet(nodeSelector) : undefined;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return (node) => {
    if (selector && !matches(selector, node.metadata.labels)) return false;
    return terms === undefined || terms.some((t) => termMatchesNode(t, node));
  };
}

function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.operator || t.operator === 'Equal') return (t.value ?? '') === (taint.value ?? '');
  return t.operator === 'Exists';
}

/** No NoSchedule/NoExecute taint of the node goes untolerated (DoNotScheduleTaintsFilterFunc). */
function toleratesNode(tolerations: Toleration[], node: NodeObject): boolean {
  return (node.spec?.taints ?? []).every(
    (taint) => (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') || tolerations.some((t) => tolerates(t, taint)),
  );
}

/** Whether the node's domain counts for `c` under its nodeAffinityPolicy / nodeTaintsPolicy. */
function included(c: SpreadConstraint, pod: Pod, node: NodeObject, affinity: (n: NodeObject) => boolean): boolean {
  if (c.nodeAffinityPolicy === 'Honor' && !affinity(node)) return false;
  if (c.nodeTaintsPolicy === 'Honor' && !toleratesNode(pod.spec?.tolerations ?? [], node)) return false;
  return true;
}

// ---- filtering ----

interface FilterState {
  constraints: SpreadConstraint[];
  /** Per constraint: topology value → matching pods in that domain (eligible domains only). */
  matchNum: Map<string, number>[];
  /** Per constraint: the smallest count over its eligible domains (the global minimum). */
  minMatchNum: number[];
  /** Per constraint: whether the incoming pod itself matches the selector. */
  selfMatch: boolean[];
}

const FILTER_KEY = `PreFilter${POD_TOPOLOGY_SPREAD}`;
const SCORE_KEY = `PreScore${POD_TOPOLOGY_SPREAD}`;

function preFilterState(ctx: CycleContext): FilterState | FilterFailure {
  const pod = ctx.pod.pod;
  let constraints: SpreadConstraint[];
  try {
    constraints = spreadConstraintsOf(pod, 'DoNotSchedule');
  } catch (e) {
    return { reasons: [`obtaining pod's hard topology spread constraints: ${(e as Error).message}`], unresolvable: true };
  }
  const s: FilterState = { constraints, matchNum: constraints.map(() => new Map()), minMatchNum: [], selfMatch: [] };
  if (constraints.length === 0) return s;
  const ns = pod.metadata.namespace ?? '';
  const affinity = requiredNodeAffinity(pod);
  for (const ni of ctx.snapshot.nodes) {
    const labels = labelsOf(ni);
    // Only nodes carrying every constraint's key define domains.
    if (!hasAllTopologyKeys(labels, constraints)) continue;
    constraints.forEach((c, i) => {
      if (!included(c, pod, ni.node, affinity)) return;
      const m = s.matchNum[i]!;
      const v = labels[c.topologyKey]!;
      m.set(v, (m.get(v) ?? 0) + countMatchingPods(ni.pods, c.selector, ns));
    });
  }
  constraints.forEach((c, i) => {
    const m = s.matchNum[i]!;
    // Fewer eligible domains than minDomains: the missing domains count as empty ones.
    let min = Infinity;
    for (const n of m.values()) if (n < min) min = n;
    s.minMatchNum[i] = m.size < c.minDomains ? 0 : min;
    s.selfMatch[i] = matches(c.selector, pod.metadata.labels);
  });
  return s;
}

function filterStateOf(ctx: CycleContext): FilterState | FilterFailure {
  let s = ctx.state.get(FILTER_KEY) as FilterState | FilterFailure | undefined;
  if (!s) ctx.state.set(FILTER_KEY, (s = preFilterState(ctx)));
  return s;
}

// ---- scoring ----

interface ScoreState {
  constraints: SpreadConstraint[];
  /** Filtered nodes lacking one of the topology keys: they score 0. */
  ignored: Set<string>;
  /** Per constraint: topology value of a filtered node → matching pods in the domain. Hostname
   *  constraints are counted per node at score time instead. */
  counts: Map<string, number>[];
  /** Per constraint: log(domains + 2), so that small topologies are not drowned by big ones. */
  weight: number[];
}

function preScoreState(ctx: CycleContext, filtered: NodeInfo[]): ScoreState | undefined {
  const pod = ctx.pod.pod;
  let constraints: SpreadConstraint[];
  try {
    constraints = spreadConstraintsOf(pod, 'ScheduleAnyway');
  } catch {
    return undefined; // the filter phase already refused a pod whose selectors do not parse
  }
  if (constraints.length === 0 || filtered.length === 0) return undefined;
  const s: ScoreState = { constraints, ignored: new Set(), counts: constraints.map(() => new Map()), weight: [] };
  for (const ni of filtered) {
    const labels = labelsOf(ni);
    if (!hasAllTopologyKeys(labels, constraints)) {
      s.ignored.add(ni.name);
      continue;
    }
    constraints.forEach((c, i) => {
      if (c.topologyKey !== LABEL_HOSTNAME && !s.counts[i]!.has(labels[c.topologyKey]!)) s.counts[i]!.set(labels[c.topologyKey]!, 0);
    });
  }
  constraints.forEach((c, i) => {
    const size = c.topologyKey === LABEL_HOSTNAME ? filtered.length - s.ignored.size : s.counts[i]!.size;
    s.weight[i] = Math.log(size + 2);
  });
  const ns = pod.metadata.namespace ?? '';
  const affinity = requiredNodeAffinity(pod);
  for (const ni of ctx.snapshot.nodes) {
    const labels = labelsOf(ni);
    if (!hasAllTopologyKeys(labels, constraints)) continue;
    constraints.forEach((c, i) => {
      if (!included(c, pod, ni.node, affinity)) return;
      const m = s.counts[i]!;
      const v = labels[c.topologyKey]!;
      const cur = m.get(v);
      // Domains without a candidate node do not matter; hostname counts are taken in score.
      if (cur !== undefined) m.set(v, cur + countMatchingPods(ni.pods, c.selector, ns));
    });
  }
  return s;
}

/**
 * The PodTopologySpread plugin. Filter failures: `node(s) didn't match pod topology spread
 * constraints (missing required label)` (unresolvable) and `node(s) didn't match pod topology
 * spread constraints`. Score: Σ count·log(domains+2) + (maxSkew−1) per ScheduleAnyway constraint,
 * normalized so the emptiest domain gets MAX_NODE_SCORE (upstream's formula); nodes missing a
 * topology key get 0; without ScheduleAnyway constraints every node scores 0.
 */
export const podTopologySpread: Plugin = {
  name: POD_TOPOLOGY_SPREAD,

  preFilter(ctx) {
    const s = filterStateOf(ctx);
    if ('reasons' in s) return s;
    return s.constraints.length === 0 ? 'skip' : undefined;
  },

  filter(ctx, node) {
    const s = filterStateOf(ctx);
    if ('reasons' in s) return s;
    if (s.constraints.length === 0) return undefined;
    const labels = labelsOf(node);
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i]!;
      const v = labels[c.topologyKey];
      if (v === undefined) return { reasons: [ERR_NODE_LABEL_NOT_MATCH], unresolvable: true };
      const skew = (s.matchNum[i]!.get(v) ?? 0) + (s.selfMatch[i] ? 1 : 0) - s.minMatchNum[i]!;
      if (skew > c.maxSkew) return { reasons: [ERR_CONSTRAINTS_NOT_MATCH] };
    }
    return undefined;
  },

  preScore(ctx, nodes) {
    const s = preScoreState(ctx, nodes) ?? null;
    ctx.state.set(SCORE_KEY, s);
    return s ? undefined : 'skip';
  },

  score(ctx, node) {
    const s = ctx.state.get(SCORE_KEY) as ScoreState | null | undefined;
    if (!s || s.ignored.has(node.name)) return 0;
    const labels = labelsOf(node);
    let score = 0;
    s.constraints.forEach((c, i) => {
      const v = labels[c.topologyKey];
      if (v === undefined) return;
      const count = c.topologyKey === LABEL_HOSTNAME ? countMatchingPods(node.pods, c.selector, ctx.pod.pod.metadata.namespace ?? '') : (s.counts[i]!.get(v) ?? 0);
      score += count * s.weight[i]! + (c.maxSkew - 1);
    });
    return Math.round(score);
  },

  normalizeScore(ctx, scores) {
    const s = ctx.state.get(SCORE_KEY) as ScoreState | null | undefined;
    if (!s) return; // no ScheduleAnyway constraints: upstream skips the plugin, every node keeps 0
    let min = Infinity;
    let max = 0;
    for (const [name, v] of scores) {
      if (s.ignored.has(name)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    for (const [name, v] of scores) {
      if (s.ignored.has(name)) scores.set(name, 0);
      else if (max === 0) scores.set(name, MAX_NODE_SCORE);
      else scores.set(name, Math.trunc((MAX_NODE_SCORE * (max + min - v)) / max));
    }
  },
};

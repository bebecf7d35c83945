// NodeAffinity, as Kubernetes 1.32's pkg/scheduler/framework/plugins/nodeaffinity with the
// matching of k8s.io/component-helpers/scheduling/corev1/nodeaffinity: a pod fits a node whose
// labels match its `nodeSelector` and (if set) one of its required node selector terms — terms are
// ORed, a term's expressions and fields ANDed; a term with nothing in it, or with a requirement
// that does not parse, matches no node. Preferred terms add their weight to the nodes they match,
// normalized so the best node gets 100.
import type { NodeSelectorRequirement, NodeSelectorTerm, PreferredSchedulingTerm } from 'kubernetes-types/core/v1.js';
import { isQualifiedName, isValidLabelValue } from '../../api/label-syntax.js';
import type { CycleContext, FilterResult, NodeInfo, NodeObject, Plugin, Pod } from '../framework.js';
import { defaultNormalizeScore } from './taint-toleration.js';

export const NODE_AFFINITY = 'NodeAffinity';
export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
/** PreFilter's reason when every required term pins `metadata.name` and no name is left. */
export const ERR_REASON_CONFLICT = 'pod affinity terms conflict';

/** Whether a node matches: a compiled selector, cheap to call once per node. */
export type NodeMatcher = (node: NodeObject) => boolean;

const INT64 = /^[+-]?\d+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.ParseInt(s, 10, 64), or undefined when it fails. */
function parseInt64(s: string): bigint | undefined {
  if (!INT64.test(s)) return undefined;
  const v = BigInt(s);
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}

type LabelTest = (labels: Record<string, string>) => boolean;

/** One matchExpressions requirement, validated as labels.NewRequirement does; undefined when it
 *  does not parse (bad key, bad value, wrong number of values, unknown operator). */
function labelRequirement(r: NodeSelectorRequirement): LabelTest | undefined {
  const key = r.key;
  const values = r.values ?? [];
  if (isQualifiedName(key).length > 0) return undefined;
  if (values.some((v) => isValidLabelValue(v).length > 0)) return undefined;
  const has = (ls: Record<string, string>) => Object.prototype.hasOwnProperty.call(ls, key);
  switch (r.operator) {
    case 'In':
      return values.length === 0 ? undefined : (ls) => has(ls) && values.includes(ls[key]!);
    case 'NotIn':
      return values.length === 0 ? undefined : (ls) => !has(ls) || !values.includes(ls[key]!);
    case 'Exists':
      return values.length !== 0 ? undefined : has;
    case 'DoesNotExist':
      return values.length !== 0 ? undefined : (ls) => !has(ls);
    case 'Gt':
    case 'Lt': {
      const bound = values.length === 1 ? parseInt64(values[0]!) : undefined;
      if (bound === undefined) return undefined;
      const gt = r.operator === 'Gt';
      return (ls) => {
        if (!has(ls)) return false;
        const v = parseInt64(ls[key]!);
        return v !== undefined && (gt ? v > bound : v < bound);
      };
    }
    default:
      return undefined;
  }
}

/** One matchFields requirement: only `In`/`NotIn` with exactly one value are valid, and
 *  `metadata.name` is the only field a node has (others read as ""). */
function fieldRequirement(r: NodeSelectorRequirement): NodeMatcher | undefined {
  const values = r.values ?? [];
  if (values.length !== 1 || (r.operator !== 'In' && r.operator !== 'NotIn')) return undefined;
  const want = values[0]!;
  const read = (n: NodeObject) => (r.key === 'metadata.name' ? (n.metadata.name ?? '') : '');
  return r.operator === 'In' ? (n) => read(n) === want : (n) => read(n) !== want;
}

const NEVER: NodeMatcher = () => false;

/** Compiles one node selector term. An empty term, or one with a requirement that does not parse,
 *  matches no node (as upstream's LazyErrorNodeSelector). */
export function compileNodeSelectorTerm(term: NodeSelectorTerm): NodeMatcher {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return NEVER;
  const labelTests: LabelTest[] = [];
  for (const e of exprs) {
    const t = labelRequirement(e);
    if (!t) return NEVER;
    labelTests.push(t);
  }
  const fieldTests: NodeMatcher[] = [];
  for (const f of fields) {
    const t = fieldRequirement(f);
    if (!t) return NEVER;
    fieldTests.push(t);
  }
  return (node) => {
    const labels = node.metadata.labels ?? {};
    return labelTests.every((t) => t(labels)) && fieldTests.every((t) => t(node));
  };
}

/** Compiles ORed terms; no terms at all match no node. */
export function compileNodeSelectorTerms(terms: readonly NodeSelectorTerm[]): NodeMatcher {
  const compiled = terms.map(compileNodeSelectorTerm);
  return (node) => compiled.some((m) => m(node));
}

/**
 * The pod's required node affinity (nodeaffinity.GetRequiredNodeAffinity): its `nodeSelector`
 * AND its required node selector terms. Undefined when the pod constrains nothing, so callers can
 * skip the per-node check. Also used by PodTopologySpread's `nodeAffinityPolicy: Honor`.
 */
export function requiredNodeAffinityOf(pod: Pod): NodeMatcher | undefined {
  const selector = Object.entries(pod.spec?.nodeSelector ?? {});
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const terms = required ? compileNodeSelectorTerms(required.nodeSelectorTerms ?? []) : undefined;
  if (selector.length === 0 && !terms) return undefined;
  return (node) => {
    const labels = node.metadata.labels ?? {};
    for (const [k, v] of selector) if (labels[k] !== v) return false;
    return !terms || terms(node);
  };
}

interface WeightedMatcher {
  weight: number;
  match: NodeMatcher;
}

/** Preferred terms with a weight (weight 0 is skipped, as upstream's NewPreferredSchedulingTerms). */
function compilePreferred(terms: readonly PreferredSchedulingTerm[]): WeightedMatcher[] {
  return terms.filter((t) => t.weight !== 0).map((t) => ({ weight: t.weight, match: compileNodeSelectorTerm(t.preference) }));
}

/** The sum of the weights of the preferred terms `node` matches. */
export function preferredScore(terms: readonly WeightedMatcher[], node: NodeObject): number {
  let sum = 0;
  for (const t of terms) if (t.match(node)) sum += t.weight;
  return sum;
}

/**
 * Node names the required terms pin through `matchFields` `metadata.name In`, if every term does
 * (upstream's PreFilterResult): the union over terms of the intersection within each term.
 * Undefined when some term leaves every node possible.
 */
function pinnedNodeNames(pod: Pod): Set<string> | undefined {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length === 0) return undefined;
  const union = new Set<string>();
  for (const t of terms) {
    let names: Set<string> | undefined;
    for (const r of t.matchFields ?? []) {
      if (r.key !== 'metadata.name' || r.operator !== 'In') continue;
      const these = new Set(r.values ?? []);
      names = names ? new Set([...names].filter((n) => these.has(n))) : these;
    }
    if (!names) return undefined;
    for (const n of names) union.add(n);
  }
  return union;
}

const FILTER_KEY = NODE_AFFINITY;
const SCORE_KEY = `${NODE_AFFINITY}/preScore`;

interface FilterState {
  required: NodeMatcher | undefined;
}

function filterState(ctx: CycleContext): FilterState {
  let s = ctx.state.get(FILTER_KEY) as FilterState | undefined;
  if (!s) {
    s = { required: requiredNodeAffinityOf(ctx.pod.pod) };
    ctx.state.set(FILTER_KEY, s);
  }
  return s;
}

function scoreState(ctx: CycleContext): WeightedMatcher[] {
  let s = ctx.state.get(SCORE_KEY) as WeightedMatcher[] | undefined;
  if (!s) {
    s = compilePreferred(ctx.pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []);
    ctx.state.set(SCORE_KEY, s);
  }
  return s;
}

export const nodeAffinity: Plugin = {
  name: NODE_AFFINITY,

  preFilter(ctx: CycleContext): FilterResult | 'skip' {
    ctx.state.delete(FILTER_KEY);
    const { required } = filterState(ctx);
    const pinned = pinnedNodeNames(ctx.pod.pod);
    if (pinned && pinned.size === 0) return { reasons: [ERR_REASON_CONFLICT], unresolvable: true };
    return required ? undefined : 'skip';
  },

  filter(ctx: CycleContext, ni: NodeInfo): FilterResult {
    const { required } = filterState(ctx);
    return !required || required(ni.node) ? undefined : { reasons: [ERR_REASON_POD], unresolvable: true };
  },

  preScore(ctx: CycleContext): void | 'skip' {
    ctx.state.delete(SCORE_KEY);
    return scoreState(ctx).length === 0 ? 'skip' : undefined;
  },

  /** The sum of the weights of the preferred terms the node matches. */
  score(ctx: CycleContext, ni: NodeInfo): number {
    return preferredScore(scoreState(ctx), ni.node);
  },

  normalizeScore(_ctx: CycleContext, scores: Map<string, number>): void {
    defaultNormalizeScore(scores, false);
  },
};

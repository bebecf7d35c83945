// InterPodAffinity, as Kubernetes 1.32's pkg/scheduler/framework/plugins/interpodaffinity does it:
// the incoming pod's required affinity / anti-affinity, the existing pods' required anti-affinity
// against the incoming pod, and preferred (weighted) terms of both sides for scoring.
//
// preFilter counts, once per pod, how many existing pods match each term per topology pair
// (`zone=a`), so filter is a few map look-ups per node; preScore likewise sums weights per
// topology pair. The incoming pod's namespaceSelector is resolved against namespace labels (what
// upstream does by merging the matching namespaces into the term), existing pods' terms are
// evaluated against the incoming pod's namespace labels.
import type { PodAffinityTerm, WeightedPodAffinityTerm } from 'kubernetes-types/core/v1.js';
import { isEverything, labelSelectorFromObject, matches, type Selector } from '../../api/selectors.js';
import { MAX_NODE_SCORE, type CycleContext, type FilterFailure, type NodeInfo, type Plugin, type Pod } from '../framework.js';

export const INTER_POD_AFFINITY = 'InterPodAffinity';
export const ERR_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules";
export const ERR_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules";
export const ERR_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules";
/** Upstream's default InterPodAffinityArgs.hardPodAffinityWeight: an existing pod's required
 *  affinity term that the incoming pod matches counts this much when scoring. */
export const HARD_POD_AFFINITY_WEIGHT = 1;

/** One PodAffinityTerm, parsed. `namespaces` holds the listed namespaces, or the owning pod's
 *  namespace when neither `namespaces` nor `namespaceSelector` is set; an absent
 *  namespaceSelector selects no namespace, `{}` selects all (LabelSelectorAsSelector). */
export interface AffinityTerm {
  namespaces: ReadonlySet<string>;
  namespaceSelector: Selector;
  selector: Selector;
  topologyKey: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

/** A pod's four lists of pod (anti-)affinity terms, parsed. */
export interface PodAffinityTerms {
  required: AffinityTerm[];
  requiredAnti: AffinityTerm[];
  preferred: WeightedAffinityTerm[];
  preferredAnti: WeightedAffinityTerm[];
  /** Why terms were dropped: their selectors do not parse (the API server normally refuses them). */
  errors: string[];
}

// Pods are never mutated (framework.ts), so their parsed terms are computed once per object.
const parsedTerms = new WeakMap<Pod, PodAffinityTerms>();

/** The pod's parsed (anti-)affinity terms, cached per pod object. Terms whose selectors do not
 *  parse are dropped and named in `errors`. */
export function affinityTermsOf(pod: Pod): PodAffinityTerms {
  let t = parsedTerms.get(pod);
  if (t) return t;
  const a = pod.spec?.affinity;
  const errors: string[] = [];
  const one = (term: PodAffinityTerm): AffinityTerm | undefined => {
    try {
      return newAffinityTerm(pod, term);
    } catch (e) {
      errors.push((e as Error).message);
      return undefined;
    }
  };
  const weighted = (terms: WeightedPodAffinityTerm[] | undefined): WeightedAffinityTerm[] =>
    (terms ?? []).flatMap((w) => {
      const term = one(w.podAffinityTerm);
      return term ? [{ ...term, weight: w.weight }] : [];
    });
  const plain = (terms: PodAffinityTerm[] | undefined): AffinityTerm[] => (terms ?? []).flatMap((x) => one(x) ?? []);
  t = {
    required: plain(a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    requiredAnti: plain(a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution),
    preferred: weighted(a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    preferredAnti: weighted(a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    errors,
  };
  parsedTerms.set(pod, t);
  return t;
}

function newAffinityTerm(pod: Pod, term: PodAffinityTerm): AffinityTerm {
  const own = !term.namespaces?.length && term.namespaceSelector == null;
  return {
    namespaces: new Set(own ? [pod.metadata.namespace ?? ''] : (term.namespaces ?? [])),
    namespaceSelector: labelSelectorFromObject(term.namespaceSelector),
    selector: labelSelectorFromObject(term.labelSelector),
    topologyKey: term.topologyKey,
  };
}

/** Whether `pod` is one of the pods `term` selects: its namespace is listed or selected (by
 *  `nsLabels`, the labels of the pod's namespace) and its labels match (AffinityTerm.Matches). */
export function termMatches(term: AffinityTerm, pod: Pod, nsLabels: Record<string, string> | undefined): boolean {
  if (term.namespaces.has(pod.metadata.namespace ?? '') || matches(term.namespaceSelector, nsLabels)) {
    return matches(term.selector, pod.metadata.labels);
  }
  return false;
}

/** An incoming pod's term with its namespaceSelector resolved against the snapshot's namespaces,
 *  as upstream's mergeAffinityTermNamespacesIfNotEmpty does: a selector that selects everything
 *  covers every namespace, any other only namespaces that exist and whose labels match. */
interface ResolvedTerm {
  topologyKey: string;
  weight: number;
  matches(pod: Pod): boolean;
}

function resolve(term: AffinityTerm | WeightedAffinityTerm, nsLabels: (ns: string) => Record<string, string> | undefined): ResolvedTerm {
  const all = isEverything(term.namespaceSelector);
  const selected = new Map<string, boolean>();
  const inNamespace = (ns: string): boolean => {
    if (all || term.namespaces.has(ns)) return true;
    if (term.namespaceSelector.nothing) return false;
    let hit = selected.get(ns);
    if (hit === undefined) {
      const labels = nsLabels(ns);
      hit = labels !== undefined && matches(term.namespaceSelector, labels);
      selected.set(ns, hit);
    }
    return hit;
  };
  return {
    topologyKey: term.topologyKey,
    weight: 'weight' in term ? term.weight : 0,
    matches: (pod) => inNamespace(pod.metadata.namespace ?? '') && matches(term.selector, pod.metadata.labels),
  };
}

/** `topologyKey` + `value` as one map key (label keys and values cannot hold a NUL). */
const pair = (key: string, value: string) => `${key}\u0000${value}`;

const nodeLabels = (ni: NodeInfo): Record<string, string> => ni.node.metadata.labels ?? {};

function bump(counts: Map<string, number>, labels: Record<string, string>, key: string, by: number): void {
  const v = labels[key];
  if (v === undefined) return;
  const k = pair(key, v);
  counts.set(k, (counts.get(k) ?? 0) + by);
}

/** True when `pod` matches every term (and there is at least one). */
function matchesAll(terms: ResolvedTerm[], pod: Pod): boolean {
  return terms.length > 0 && terms.every((t) => t.matches(pod));
}

// ---- filtering ----

interface FilterState {
  /** Nothing to check: no required terms and no existing pod's anti-affinity matches (Skip). */
  skip: boolean;
  affinity: ResolvedTerm[];
  antiAffinity: ResolvedTerm[];
  /** Per topology pair: existing pods matching all the incoming pod's affinity terms. */
  affinityCounts: Map<string, number>;
  /** Per topology pair: existing pods matching one of the incoming pod's anti-affinity terms. */
  antiAffinityCounts: Map<string, number>;
  /** Per topology pair: existing pods whose required anti-affinity the incoming pod matches. */
  existingAntiAffinityCounts: Map<string, number>;
  /** The incoming pod matches its own affinity terms (may be the first of its kind). */
  selfMatch: boolean;
}

const FILTER_KEY = `PreFilter${INTER_POD_AFFINITY}`;
const SCORE_KEY = `PreScore${INTER_POD_AFFINITY}`;

function preFilterState(ctx: CycleContext): FilterState | FilterFailure {
  const pod = ctx.pod.pod;
  const terms = affinityTermsOf(pod);
  if (terms.errors.length) return { reasons: [`parsing pod: ${terms.errors.join('; ')}`], unresolvable: true };
  const nsLabels = (ns: string) => ctx.snapshot.namespaceLabels(ns);
  const ownNsLabels = nsLabels(pod.metadata.namespace ?? '');
  const affinity = terms.required.map((t) => resolve(t, nsLabels));
  const antiAffinity = terms.requiredAnti.map((t) => resolve(t, nsLabels));

  const existingAntiAffinityCounts = new Map<string, number>();
  for (const ni of ctx.snapshot.havePodsWithRequiredAntiAffinity) {
    const labels = nodeLabels(ni);
    for (const existing of ni.podsWithRequiredAntiAffinity) {
      for (const t of affinityTermsOf(existing.pod).requiredAnti) {
        if (termMatches(t, pod, ownNsLabels)) bump(existingAntiAffinityCounts, labels, t.topologyKey, 1);
      }
    }
  }

  const affinityCounts = new Map<string, number>();
  const antiAffinityCounts = new Map<string, number>();
  if (affinity.length || antiAffinity.length) {
    for (const ni of ctx.snapshot.nodes) {
      const labels = nodeLabels(ni);
      for (const existing of ni.pods) {
        if (matchesAll(affinity, existing.pod)) for (const t of affinity) bump(affinityCounts, labels, t.topologyKey, 1);
        for (const t of antiAffinity) if (t.matches(existing.pod)) bump(antiAffinityCounts, labels, t.topologyKey, 1);
      }
    }
  }

  return {
    skip: existingAntiAffinityCounts.size === 0 && affinity.length === 0 && antiAffinity.length === 0,
    affinity,
    antiAffinity,
    affinityCounts,
    antiAffinityCounts,
    existingAntiAffinityCounts,
    selfMatch: matchesAll(affinity, pod),
  };
}

function filterStateOf(ctx: CycleContext): FilterState | FilterFailure {
  let s = ctx.state.get(FILTER_KEY) as FilterState | FilterFailure | undefined;
  if (!s) {
    s = preFilterState(ctx);
    ctx.state.set(FILTER_KEY, s);
  }
  return s;
}

/** Every term's topology key is on the node and, per term, some matching pod is in the node's
 *  domain — or no pod anywhere matches and the pod matches its own terms (the first of a group). */
function satisfiesPodAffinity(s: FilterState, labels: Record<string, string>): boolean {
  let podsExist = true;
  for (const t of s.affinity) {
    const v = labels[t.topologyKey];
    if (v === undefined) return false;
    if ((s.affinityCounts.get(pair(t.topologyKey, v)) ?? 0) <= 0) podsExist = false;
  }
  return podsExist || (s.affinityCounts.size === 0 && s.selfMatch);
}

function satisfiesPodAntiAffinity(s: FilterState, labels: Record<string, string>): boolean {
  if (s.antiAffinityCounts.size === 0) return true;
  for (const t of s.antiAffinity) {
    const v = labels[t.topologyKey];
    if (v !== undefined && (s.antiAffinityCounts.get(pair(t.topologyKey, v)) ?? 0) > 0) return false;
  }
  return true;
}

function satisfiesExistingPodsAntiAffinity(s: FilterState, labels: Record<string, string>): boolean {
  if (s.existingAntiAffinityCounts.size === 0) return true;
  for (const [k, v] of Object.entries(labels)) if ((s.existingAntiAffinityCounts.get(pair(k, v)) ?? 0) > 0) return false;
  return true;
}

// ---- scoring ----

/** topologyKey → topology value → summed weight. */
type ScoreMap = Map<string, Map<string, number>>;

function addScore(m: ScoreMap, labels: Record<string, string>, key: string, weight: number): void {
  const v = labels[key];
  if (v === undefined) return;
  let byValue = m.get(key);
  if (!byValue) m.set(key, (byValue = new Map()));
  byValue.set(v, (byValue.get(v) ?? 0) + weight);
}

/** Sums, per topology pair, the weights of every preferred term linking the incoming pod and an
 *  existing pod (both directions), plus existing pods' required affinity terms at
 *  HARD_POD_AFFINITY_WEIGHT; anti-affinity subtracts. */
function preScoreState(ctx: CycleContext): ScoreMap {
  const pod = ctx.pod.pod;
  const own = affinityTermsOf(pod);
  const nsLabels = (ns: string) => ctx.snapshot.namespaceLabels(ns);
  const ownNsLabels = nsLabels(pod.metadata.namespace ?? '');
  const preferred = own.preferred.map((t) => resolve(t, nsLabels));
  const preferredAnti = own.preferredAnti.map((t) => resolve(t, nsLabels));
  // Unless the incoming pod has preferred terms, only pods with affinity terms can contribute.
  const hasConstraints = preferred.length > 0 || preferredAnti.length > 0;
  const scores: ScoreMap = new Map();
  for (const ni of hasConstraints ? ctx.snapshot.nodes : ctx.snapshot.havePodsWithAffinity) {
    const labels = nodeLabels(ni);
    if (Object.keys(labels).length === 0) continue;
    for (const existing of hasConstraints ? ni.pods : ni.podsWithAffinity) {
      for (const t of preferred) if (t.matches(existing.pod)) addScore(scores, labels, t.topologyKey, t.weight);
      for (const t of preferredAnti) if (t.matches(existing.pod)) addScore(scores, labels, t.topologyKey, -t.weight);
      const theirs = affinityTermsOf(existing.pod);
      if (HARD_POD_AFFINITY_WEIGHT > 0) {
        for (const t of theirs.required) if (termMatches(t, pod, ownNsLabels)) addScore(scores, labels, t.topologyKey, HARD_POD_AFFINITY_WEIGHT);
      }
      for (const t of theirs.preferred) if (termMatches(t, pod, ownNsLabels)) addScore(scores, labels, t.topologyKey, t.weight);
      for (const t of theirs.preferredAnti) if (termMatches(t, pod, ownNsLabels)) addScore(scores, labels, t.topologyKey, -t.weight);
    }
  }
  return scores;
}

/**
 * The InterPodAffinity plugin. Filter failures: `node(s) didn't match pod affinity rules`
 * (unresolvable), `node(s) didn't match pod anti-affinity rules`, `node(s) didn't satisfy existing
 * pods anti-affinity rules`. Score: the summed weights of the node's topology domains, normalized
 * min–max to 0…MAX_NODE_SCORE (all equal → 0). State lives in `ctx.state` under
 * `PreFilterInterPodAffinity` / `PreScoreInterPodAffinity`; filter and score compute it themselves
 * if preFilter / preScore were not run.
 */
export const interPodAffinity: Plugin = {
  name: INTER_POD_AFFINITY,

  preFilter(ctx) {
    const s = filterStateOf(ctx);
    if ('reasons' in s) return s;
    return s.skip ? 'skip' : undefined;
  },

  filter(ctx, node) {
    const s = filterStateOf(ctx);
    if ('reasons' in s) return s;
    if (s.skip) return undefined;
    const labels = nodeLabels(node);
    if (!satisfiesPodAffinity(s, labels)) return { reasons: [ERR_AFFINITY_RULES_NOT_MATCH], unresolvable: true };
    if (!satisfiesPodAntiAffinity(s, labels)) return { reasons: [ERR_ANTI_AFFINITY_RULES_NOT_MATCH] };
    if (!satisfiesExistingPodsAntiAffinity(s, labels)) return { reasons: [ERR_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH] };
    return undefined;
  },

  preScore(ctx, nodes) {
    const s = nodes.length === 0 ? new Map() : preScoreState(ctx);
    ctx.state.set(SCORE_KEY, s);
    return s.size === 0 ? 'skip' : undefined;
  },

  score(ctx, node) {
    let s = ctx.state.get(SCORE_KEY) as ScoreMap | undefined;
    if (!s) ctx.state.set(SCORE_KEY, (s = preScoreState(ctx)));
    let score = 0;
    const labels = nodeLabels(node);
    for (const [key, byValue] of s) {
      const v = labels[key];
      if (v !== undefined) score += byValue.get(v) ?? 0;
    }
    return score;
  },

  normalizeScore(ctx, scores) {
    const s = ctx.state.get(SCORE_KEY) as ScoreMap | undefined;
    if (!s || s.size === 0) return; // upstream skips the plugin: every node keeps 0
    let min = Infinity;
    let max = -Infinity;
    for (const v of scores.values()) {
      if (v > max) max = v;
      if (v < min) min = v;
    }
    const diff = max - min;
    for (const [name, v] of scores) scores.set(name, diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((v - min) / diff)) : 0);
  },
};

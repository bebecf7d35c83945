// TaintToleration, as Kubernetes 1.32's pkg/scheduler/framework/plugins/tainttoleration: a node's
// NoSchedule and NoExecute taints keep off every pod that does not tolerate them, and its
// PreferNoSchedule taints make it less attractive, one untolerated taint at a time. The toleration
// matching (Toleration.ToleratesTaint) is exported because NodeUnschedulable and
// PodTopologySpread's nodeTaintsPolicy need the very same rule.
import type { Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { MAX_NODE_SCORE, type CycleContext, type FilterResult, type NodeInfo, type Plugin } from '../framework.js';

export const TAINT_TOLERATION = 'TaintToleration';

/** Toleration.ToleratesTaint: an empty effect matches every effect, an empty key (with `Exists`)
 *  every key; `Equal` (or no operator) compares values, `Exists` ignores them. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  switch (t.operator ?? '') {
    case '':
    case 'Equal':
      return (t.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/** Whether any of `tolerations` tolerates `taint` (v1helper.TolerationsTolerateTaint). */
export function tolerationsTolerateTaint(tolerations: readonly Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => toleratesTaint(t, taint));
}

/** The taints a pod must tolerate to be scheduled at all (helper.DoNotScheduleTaintsFilterFunc). */
export const doNotScheduleTaint = (t: Taint): boolean => t.effect === 'NoSchedule' || t.effect === 'NoExecute';

/** The first of `taints` selected by `include` that no toleration tolerates
 *  (v1helper.FindMatchingUntoleratedTaint), or undefined when all are tolerated. */
export function findUntoleratedTaint(taints: readonly Taint[] | undefined, tolerations: readonly Toleration[] | undefined, include: (t: Taint) => boolean): Taint | undefined {
  for (const taint of taints ?? []) {
    if (include(taint) && !tolerationsTolerateTaint(tolerations, taint)) return taint;
  }
  return undefined;
}

/** The filter's reason, formatted as upstream's `{%s: %s}` (an empty value leaves `{key: }`). */
export function untoleratedTaintReason(taint: Taint): string {
  return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
}

/**
 * helper.DefaultNormalizeScore: scales scores to 0…MAX_NODE_SCORE relative to the highest one
 * (integer division, as upstream); `reverse` turns the scale around so the lowest raw score wins.
 * All-zero scores stay 0 (or all become MAX_NODE_SCORE when reversed).
 */
export function defaultNormalizeScore(scores: Map<string, number>, reverse: boolean): void {
  let max = 0;
  for (const s of scores.values()) if (s > max) max = s;
  for (const [name, s] of scores) {
    if (max === 0) {
      if (reverse) scores.set(name, MAX_NODE_SCORE);
      continue;
    }
    const scaled = Math.floor((MAX_NODE_SCORE * s) / max);
    scores.set(name, reverse ? MAX_NODE_SCORE - scaled : scaled);
  }
}

const PRE_SCORE_KEY = `${TAINT_TOLERATION}/preScore`;

/** Tolerations that can tolerate a PreferNoSchedule taint: that effect, or all effects. */
function preferNoScheduleTolerations(ctx: CycleContext): Toleration[] {
  let tols = ctx.state.get(PRE_SCORE_KEY) as Toleration[] | undefined;
  if (!tols) {
    tols = (ctx.pod.pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    ctx.state.set(PRE_SCORE_KEY, tols);
  }
  return tols;
}

export const taintToleration: Plugin = {
  name: TAINT_TOLERATION,

  filter(ctx: CycleContext, ni: NodeInfo): FilterResult {
    const taint = findUntoleratedTaint(ni.node.spec?.taints, ctx.pod.pod.spec?.tolerations, doNotScheduleTaint);
    return taint ? { reasons: [untoleratedTaintReason(taint)], unresolvable: true } : undefined;
  },

  /** Skips scoring when no candidate has a PreferNoSchedule taint: every node would score the
   *  same, which changes no choice. */
  preScore(ctx: CycleContext, nodes: NodeInfo[]): void | 'skip' {
    ctx.state.delete(PRE_SCORE_KEY);
    preferNoScheduleTolerations(ctx);
    return nodes.some((n) => n.node.spec?.taints?.some((t) => t.effect === 'PreferNoSchedule')) ? undefined : 'skip';
  },

  /** The number of PreferNoSchedule taints the pod does not tolerate (fewer is better). */
  score(ctx: CycleContext, ni: NodeInfo): number {
    const tols = preferNoScheduleTolerations(ctx);
    let count = 0;
    for (const taint of ni.node.spec?.taints ?? []) {
      if (taint.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(tols, taint)) count++;
    }
    return count;
  },

  normalizeScore(_ctx: CycleContext, scores: Map<string, number>): void {
    defaultNormalizeScore(scores, true);
  },
};

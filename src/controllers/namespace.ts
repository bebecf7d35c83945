// The namespace controller of kube-controller-manager: a Namespace being deleted (phase
// Terminating) has everything in it deleted, and once nothing is left the namespace itself goes.
// Upstream clears the `kubernetes` entry of spec.finalizers through namespaces/{name}/finalize and
// deletes again; Skiff's API server removes a Terminating namespace on a DELETE once it holds no
// object, so the last step here is that DELETE. The progress is reported in status.conditions
// with upstream's condition types, reasons and messages.
//
// Pods are deleted with gracePeriodSeconds 0 (also those already terminating gracefully), so a
// namespace on a node that is gone does not wait for a kubelet that will never answer.
import { isStatusError } from '../api/errors.js';
import { RESOURCES, resourceFor, type ResourceType } from '../api/kinds.js';
import type { KubeObject } from '../api/types.js';
import { NAMESPACE_INDEX } from '../client/cache.js';
import { rfc3339 } from '../util/clock.js';
import { done, requeueAfter, type ControllerContext, type ControllerDef, type Result } from './controller.js';

const namespaces = resourceFor('', 'v1', 'namespaces');

/** Every namespaced kind whose objects the controller deletes. */
export const NAMESPACED_RESOURCES: readonly ResourceType[] = RESOURCES.filter(
  (rt) => rt.namespaced && rt.verbs.includes('list') && rt.verbs.includes('watch') && rt.verbs.includes('delete'),
);

/** A check for content held by finalizers; the events of that content revisit sooner. */
const REMAINING_RECHECK_MS = 5_000;

export interface NamespaceCondition {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime?: string;
}

/** What one cleanup pass found: objects still present per resource (`plural.group`), the
 *  finalizers holding them, and the deletions that failed. */
export interface ContentTotals {
  remaining: Map<string, number>;
  finalizers: Map<string, number>;
  failures: string[];
}

/**
 * The status conditions of a Terminating namespace after a pass, as upstream's
 * namespaceConditionUpdater writes them (discovery and group-version parsing cannot fail in Skiff,
 * whose kinds are compiled in).
 */
export function planNamespaceConditions(t: ContentTotals): NamespaceCondition[] {
  const remaining = [...t.remaining].filter(([, n]) => n > 0).map(([r, n]) => `${r} has ${n} resource instances`).sort();
  const finalizers = [...t.finalizers].filter(([, n]) => n > 0).map(([f, n]) => `${f} in ${n} resource instances`).sort();
  return [
    { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
    { type: 'NamespaceDeletionGroupVersionParsingFailure', status: 'False', reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
    t.failures.length > 0
      ? { type: 'NamespaceDeletionContentFailure', status: 'True', reason: 'ContentDeletionFailed', message: `Failed to delete all resource types, ${t.failures.length} remaining: ${t.failures.join(', ')}` }
      : { type: 'NamespaceDeletionContentFailure', status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
    remaining.length > 0
      ? { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${remaining.join(', ')}` }
      : { type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' },
    finalizers.length > 0
      ? { type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${finalizers.join(', ')}` }
      : { type: 'NamespaceFinalizersRemaining', status: 'False', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
  ];
}

/** `conditions` merged into `current`: a condition keeps its lastTransitionTime unless its status
 *  changes. Undefined when nothing would change (no write needed). */
export function mergeConditions(current: readonly NamespaceCondition[], conditions: readonly NamespaceCondition[], now: string): NamespaceCondition[] | undefined {
  let changed = false;
  const out = current.filter((c) => !conditions.some((n) => n.type === c.type));
  for (const c of conditions) {
    const old = current.find((o) => o.type === c.type);
    if (!old || old.status !== c.status || old.reason !== c.reason || old.message !== c.message) changed = true;
    out.push({ ...c, lastTransitionTime: old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : now });
  }
  return changed ? out : undefined;
}

/** Deletes what is left in the namespace; returns what is still there afterwards. */
async function deleteContent(ctx: ControllerContext, ns: string): Promise<ContentTotals> {
  const t: ContentTotals = { remaining: new Map(), finalizers: new Map(), failures: [] };
  for (const rt of NAMESPACED_RESOURCES) {
    const resource = `${rt.plural}.${rt.group}`;
    for (const o of ctx.informer(rt).cache.byIndex(NAMESPACE_INDEX, ns)) {
      let left: KubeObject | undefined = o;
      if (!o.metadata.deletionTimestamp || (rt.kind === 'Pod' && (o.metadata.deletionGracePeriodSeconds ?? 0) > 0)) {
        try {
          const r = await ctx.client.delete(rt, o.metadata.name!, { namespace: ns, gracePeriodSeconds: 0, propagationPolicy: 'Background' });
          left = r.kind !== 'Status' && (r as KubeObject).metadata?.deletionTimestamp ? (r as KubeObject) : undefined;
        } catch (e) {
          if (isStatusError(e, 'NotFound')) left = undefined;
          else if (!t.failures.some((f) => f.startsWith(`${resource}:`))) t.failures.push(`${resource}: ${(e as Error).message}`);
        }
      }
      if (!left) continue;
      t.remaining.set(resource, (t.remaining.get(resource) ?? 0) + 1);
      for (const f of left.metadata.finalizers ?? []) t.finalizers.set(f, (t.finalizers.get(f) ?? 0) + 1);
    }
  }
  return t;
}

async function reconcileNamespace(key: string, ctx: ControllerContext): Promise<Result> {
  const ns = ctx.informer(namespaces).cache.get(key);
  if (!ns?.metadata.deletionTimestamp) return done();
  const totals = await deleteContent(ctx, key);
  const empty = totals.remaining.size === 0 && totals.failures.length === 0;
  if (empty) {
    try {
      await ctx.client.delete(namespaces, key, { preconditions: { uid: ns.metadata.uid! } });
    } catch (e) {
      if (!isStatusError(e, 'NotFound') && !isStatusError(e, 'Conflict')) throw e;
    }
    return done();
  }
  const status = (ns.status ?? {}) as { conditions?: NamespaceCondition[] };
  const merged = mergeConditions(status.conditions ?? [], planNamespaceConditions(totals), rfc3339(ctx.clock.now()));
  if (merged) {
    const next = structuredClone(ns);
    next.status = { ...status, conditions: merged };
    try {
      await ctx.client.update(namespaces, next, { subresource: 'status' });
    } catch (e) {
      // a stale copy (409) or a namespace gone meanwhile: the next pass writes the conditions
      if (!isStatusError(e, 'Conflict') && !isStatusError(e, 'NotFound')) throw e;
    }
  }
  if (totals.failures.length > 0) throw new Error(`namespace ${key}: ${totals.failures.join('; ')}`);
  return requeueAfter(REMAINING_RECHECK_MS);
}

/** The namespace controller: a key is a namespace name; any change to an object in a namespace
 *  revisits its namespace (a no-op unless it is Terminating). Client name `namespace-controller`. */
export const namespaceController: ControllerDef = {
  name: 'namespace-controller',
  watches: [
    { rt: namespaces },
    ...NAMESPACED_RESOURCES.map((rt) => ({ rt, keyOf: (o: KubeObject) => o.metadata.namespace })),
  ],
  reconcile: reconcileNamespace,
};

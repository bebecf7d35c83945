// The garbage collector of kube-controller-manager: ownerReferences across every kind Skiff
// serves. A dependent whose owners (by uid) are all gone is deleted; an owner deleted with the
// `foregroundDeletion` finalizer (propagationPolicy Foreground) has its dependents deleted first
// and keeps its finalizer until those with blockOwnerDeletion are gone; an owner deleted with the
// `orphan` finalizer (propagationPolicy Orphan) has its ownerReferences removed from its dependents,
// then loses the finalizer. The API server only adds those finalizers; everything else is here.
//
// Upstream keeps a graph of every object; here the informer caches are the graph, with one index
// (owner uid → dependents) on each. A key names one object, by resource, namespace/name and uid,
// so an owner that is already gone can still be reconciled: its dependents are found by its uid.
// An owner missing from the caches is confirmed absent with a live GET before anything is
// deleted, as upstream does, because the owner's informer may simply not have seen it yet.
import { isStatusError } from '../api/errors.js';
import { RESOURCES, apiVersionOfResource, type ResourceType } from '../api/kinds.js';
import type { KubeObject, OwnerReference } from '../api/types.js';
import { objectCacheKey } from '../client/cache.js';
import type { Client } from '../client/client.js';
import { done, informerMapKey, type ControllerContext, type ControllerDef, type Result } from './controller.js';

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';
/** The informer cache index this controller adds: owner uid → dependents. */
export const OWNER_UID_INDEX = 'gc-owner-uid';

/** Every listable, watchable resource but events (which nothing owns that needs collecting). */
export const GC_RESOURCES: readonly ResourceType[] = RESOURCES.filter(
  (rt) => rt.verbs.includes('list') && rt.verbs.includes('watch') && rt.verbs.includes('delete') && rt.kind !== 'Event',
);

// ---- pure planning ----

/** What is known of one owner reference's target. */
export type OwnerState =
  /** It exists with the referenced uid and is not being deleted in the foreground. */
  | 'solid'
  /** It is gone, or a different object (another uid) holds its name now. */
  | 'absent'
  /** It exists but is being deleted with the foregroundDeletion finalizer: it waits for us. */
  | 'waitingForDependents';

/** What the collector does to a dependent. */
export type DependentPlan =
  | { action: 'none' }
  /** Remove the references (by owner uid) to owners that are gone or going; a solid one remains. */
  | { action: 'removeOwnerReferences'; uids: string[] }
  | { action: 'delete'; propagationPolicy: 'Background' | 'Foreground' | 'Orphan' };

/**
 * upstream's attemptToDeleteItem for one dependent: `states` gives the state of each owner
 * reference, by owner uid (references without an entry count as solid). A dependent that is being
 * deleted, or has no owners, is left alone. With a solid owner only the dangling references go.
 * With none, the dependent is deleted: in the foreground when an owner waits for it and it has
 * dependents of its own, otherwise as its own finalizers ask (orphan, foreground) or in the
 * background.
 */
export function planDependent(dep: KubeObject, states: ReadonlyMap<string, OwnerState>, hasDependents: boolean | (() => boolean)): DependentPlan {
  const m = dep.metadata;
  const refs = m.ownerReferences ?? [];
  if (m.deletionTimestamp || refs.length === 0) return { action: 'none' };
  const state = (r: OwnerReference): OwnerState => states.get(r.uid) ?? 'solid';
  const solid = refs.filter((r) => state(r) === 'solid');
  const gone = refs.filter((r) => state(r) !== 'solid');
  if (solid.length > 0) return gone.length > 0 ? { action: 'removeOwnerReferences', uids: gone.map((r) => r.uid) } : { action: 'none' };
  const waiting = refs.some((r) => state(r) === 'waitingForDependents');
  if (waiting && (typeof hasDependents === 'function' ? hasDependents() : hasDependents)) return { action: 'delete', propagationPolicy: 'Foreground' };
  const fins = m.finalizers ?? [];
  if (fins.includes(ORPHAN_FINALIZER)) return { action: 'delete', propagationPolicy: 'Orphan' };
  if (fins.includes(FOREGROUND_FINALIZER)) return { action: 'delete', propagationPolicy: 'Foreground' };
  return { action: 'delete', propagationPolicy: 'Background' };
}

/** What the collector does to an owner being deleted with one of its finalizers. */
export type OwnerPlan =
  | { action: 'none' }
  /** Take the ownerReferences to the owner out of these dependents, then drop `orphan`. */
  | { action: 'orphan'; dependents: KubeObject[] }
  /** Collect these dependents; drop `foregroundDeletion` once none blocks (`blocking` is empty). */
  | { action: 'foreground'; dependents: KubeObject[]; blocking: KubeObject[] };

/**
 * upstream's processDeletingDependentsItem and orphanDependents for an owner: `dependents` are the
 * objects that reference the owner's uid. The orphan finalizer is handled first (as upstream, an
 * owner with both is orphaned, then waits for nothing). Blocking dependents are those whose
 * reference to the owner has blockOwnerDeletion.
 */
export function planOwner(owner: KubeObject, dependents: readonly KubeObject[]): OwnerPlan {
  const m = owner.metadata;
  if (!m.deletionTimestamp) return { action: 'none' };
  const fins = m.finalizers ?? [];
  if (fins.includes(ORPHAN_FINALIZER)) return { action: 'orphan', dependents: [...dependents] };
  if (fins.includes(FOREGROUND_FINALIZER)) {
    const blocking = dependents.filter((d) => (d.metadata.ownerReferences ?? []).some((r) => r.uid === m.uid && r.blockOwnerDeletion === true));
    return { action: 'foreground', dependents: [...dependents], blocking };
  }
  return { action: 'none' };
}

// ---- keys ----

/** `group/version/plural namespace/name uid`: names and uids have no spaces. */
export function gcKey(rt: ResourceType, obj: KubeObject): string {
  return `${informerMapKey(rt)} ${objectCacheKey(obj)} ${obj.metadata.uid ?? ''}`;
}

function parseKey(key: string): { rt: ResourceType; cacheKey: string; uid: string } | undefined {
  const [path, cacheKey, uid] = key.split(' ');
  const rt = GC_RESOURCES.find((r) => informerMapKey(r) === path);
  if (!rt || cacheKey === undefined || uid === undefined) return undefined;
  return { rt, cacheKey, uid };
}

/** The resource an owner reference points at: by apiVersion and kind, else by group and kind
 *  (an owner written under another version of its group is the same object). */
export function ownerResource(ref: OwnerReference): ResourceType | undefined {
  const group = ref.apiVersion.includes('/') ? ref.apiVersion.slice(0, ref.apiVersion.indexOf('/')) : '';
  return (
    GC_RESOURCES.find((r) => apiVersionOfResource(r) === ref.apiVersion && r.kind === ref.kind) ??
    GC_RESOURCES.find((r) => r.group === group && r.kind === ref.kind)
  );
}

function ownerKey(dep: KubeObject, ref: OwnerReference): string | undefined {
  const rt = ownerResource(ref);
  if (!rt) return undefined;
  const ns = rt.namespaced ? dep.metadata.namespace : undefined;
  if (rt.namespaced && !ns) return undefined;
  return `${informerMapKey(rt)} ${ns ? `${ns}/` : ''}${ref.name} ${ref.uid}`;
}

// ---- reconcile ----

const indexed = new WeakSet<object>();

/** Adds the owner-uid index to a cache once (caches may be shared with other controllers). */
function ensureIndex(ctx: ControllerContext, rt: ResourceType): void {
  const cache = ctx.informer(rt).cache;
  if (indexed.has(cache)) return;
  try {
    cache.addIndexer(OWNER_UID_INDEX, (o) => (o.metadata.ownerReferences ?? []).map((r) => r.uid));
  } catch {
    // another collector instance already added the same index to this shared cache
  }
  indexed.add(cache);
}

/** Every cached object, of any kind, that references `uid`. */
function dependentsOf(ctx: ControllerContext, uid: string): { rt: ResourceType; obj: KubeObject }[] {
  const out: { rt: ResourceType; obj: KubeObject }[] = [];
  for (const rt of GC_RESOURCES) {
    ensureIndex(ctx, rt);
    for (const obj of ctx.informer(rt).cache.byIndex(OWNER_UID_INDEX, uid)) out.push({ rt, obj });
  }
  return out;
}

/** The state of one owner: from the cache, and when the cache does not have it, from the API. */
async function ownerState(ctx: ControllerContext, dep: KubeObject, ref: OwnerReference): Promise<OwnerState> {
  const rt = ownerResource(ref);
  // a reference to a kind Skiff does not serve cannot be resolved; upstream keeps it too
  if (!rt) return 'solid';
  // a namespaced owner of a cluster-scoped dependent is invalid: upstream treats it as absent
  if (rt.namespaced && !dep.metadata.namespace) return 'absent';
  const ns = rt.namespaced ? dep.metadata.namespace : undefined;
  let owner: KubeObject | undefined = ctx.informer(rt).cache.get(ns ? `${ns}/${ref.name}` : ref.name);
  if (!owner || owner.metadata.uid !== ref.uid) {
    try {
      owner = await ctx.client.get(rt, ref.name, ns ? { namespace: ns } : {});
    } catch (e) {
      if (isStatusError(e, 'NotFound')) return 'absent';
      throw e;
    }
    if (owner.metadata.uid !== ref.uid) return 'absent';
  }
  const m = owner.metadata;
  if (m.deletionTimestamp && (m.finalizers ?? []).includes(FOREGROUND_FINALIZER)) return 'waitingForDependents';
  return 'solid';
}

function ignoreGone(e: unknown): void {
  // the object went away, or another object with the same name replaced it: nothing to do
  if (isStatusError(e, 'NotFound') || isStatusError(e, 'Conflict')) return;
  throw e;
}

/** Applies planDependent to one dependent. `known` remembers owner states for one reconcile, so
 *  the hundred pods of a deleted ReplicaSet cost one lookup of it, not a hundred. */
async function collectDependent(ctx: ControllerContext, rt: ResourceType, dep: KubeObject, known = new Map<string, OwnerState>()): Promise<void> {
  const refs = dep.metadata.ownerReferences ?? [];
  if (dep.metadata.deletionTimestamp || refs.length === 0) return;
  const states = new Map<string, OwnerState>();
  for (const r of refs) {
    const ns = ownerResource(r)?.namespaced ? (dep.metadata.namespace ?? '') : '';
    const memo = `${ns}/${r.uid}`;
    let st = known.get(memo);
    if (st === undefined) known.set(memo, (st = await ownerState(ctx, dep, r)));
    states.set(r.uid, st);
  }
  // whether it has dependents of its own matters only when an owner waits for them: ask lazily
  const plan = planDependent(dep, states, () => dependentsOf(ctx, dep.metadata.uid ?? '').length > 0);
  const ns = dep.metadata.namespace;
  if (plan.action === 'delete') {
    await ctx.client
      .delete(rt, dep.metadata.name!, { ...(ns ? { namespace: ns } : {}), propagationPolicy: plan.propagationPolicy, preconditions: { uid: dep.metadata.uid! } })
      .catch(ignoreGone);
  } else if (plan.action === 'removeOwnerReferences') {
    await removeOwnerReferences(ctx.client, rt, dep, plan.uids);
  }
}

/** Writes `obj` without the references to `uids` (optimistically: a stale copy is a 409, retried
 *  by the runner once the cache has caught up). */
async function removeOwnerReferences(client: Client, rt: ResourceType, obj: KubeObject, uids: readonly string[]): Promise<void> {
  const next = structuredClone(obj);
  const kept = (next.metadata.ownerReferences ?? []).filter((r) => !uids.includes(r.uid));
  if (kept.length === (next.metadata.ownerReferences ?? []).length) return;
  if (kept.length > 0) next.metadata.ownerReferences = kept;
  else delete next.metadata.ownerReferences;
  await client.update(rt, next, next.metadata.namespace ? { namespace: next.metadata.namespace } : {}).catch((e: unknown) => {
    if (!isStatusError(e, 'NotFound')) throw e;
  });
}

async function removeFinalizer(client: Client, rt: ResourceType, obj: KubeObject, finalizer: string): Promise<void> {
  const next = structuredClone(obj);
  const kept = (next.metadata.finalizers ?? []).filter((f) => f !== finalizer);
  if (kept.length > 0) next.metadata.finalizers = kept;
  else delete next.metadata.finalizers;
  await client.update(rt, next, next.metadata.namespace ? { namespace: next.metadata.namespace } : {}).catch((e: unknown) => {
    if (!isStatusError(e, 'NotFound')) throw e;
  });
}

/**
 * One object, by key: its dependents when it is gone or being deleted with a GC finalizer, and
 * itself as a dependent otherwise. Errors (a 409 from a stale cache, an unreachable API) throw and
 * are retried with backoff.
 */
async function reconcileGc(key: string, ctx: ControllerContext): Promise<Result> {
  const k = parseKey(key);
  if (!k) return done();
  ensureIndex(ctx, k.rt);
  const obj = ctx.informer(k.rt).cache.get(k.cacheKey);
  if (!obj || obj.metadata.uid !== k.uid) {
    // the owner is gone: each dependent that still names it is looked at again (it may have
    // another, living owner); a dependent is deleted only once its absence is confirmed
    const known = new Map<string, OwnerState>();
    for (const d of dependentsOf(ctx, k.uid)) await collectDependent(ctx, d.rt, d.obj, known);
    return done();
  }
  // A live owner not being deleted through a GC finalizer has nothing to do for its dependents:
  // skip looking them up (a ReplicaSet's thousands of pods change all the time).
  const fins = obj.metadata.finalizers ?? [];
  if (!obj.metadata.deletionTimestamp || (!fins.includes(ORPHAN_FINALIZER) && !fins.includes(FOREGROUND_FINALIZER))) {
    await collectDependent(ctx, k.rt, obj);
    return done();
  }
  const deps = dependentsOf(ctx, k.uid);
  const plan = planOwner(obj, deps.map((d) => d.obj));
  if (plan.action === 'orphan') {
    for (const d of deps) await removeOwnerReferences(ctx.client, d.rt, d.obj, [k.uid]);
    await removeFinalizer(ctx.client, k.rt, obj, ORPHAN_FINALIZER);
    return done();
  }
  if (plan.action === 'foreground') {
    const known = new Map<string, OwnerState>();
    for (const d of deps) await collectDependent(ctx, d.rt, d.obj, known);
    // the dependents' deletions come back as events that revisit this owner (keyOf names owners)
    if (plan.blocking.length === 0) await removeFinalizer(ctx.client, k.rt, obj, FOREGROUND_FINALIZER);
    return done();
  }
  await collectDependent(ctx, k.rt, obj);
  return done();
}

/** The garbage collector as a controller: it watches every GC_RESOURCES kind; a change to an
 *  object revisits the object itself and each of its owners. Run it with its own client name
 *  `generic-garbage-collector`, as upstream's. */
export const garbageCollector: ControllerDef = {
  name: 'generic-garbage-collector',
  watches: GC_RESOURCES.map((rt) => ({
    rt,
    keyOf(obj: KubeObject): string[] {
      const keys = [gcKey(rt, obj)];
      for (const ref of obj.metadata.ownerReferences ?? []) {
        const ok = ownerKey(obj, ref);
        if (ok) keys.push(ok);
      }
      return keys;
    },
  })),
  reconcile: reconcileGc,
};

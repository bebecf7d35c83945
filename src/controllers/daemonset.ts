// The DaemonSet controller of kube-controller-manager (pkg/controller/daemon, 1.32): one pod per
// eligible node. Each reconcile reads the DaemonSet, the nodes, its pods and its
// ControllerRevisions from the caches; claims pods (adopt matching orphans, release those that
// stopped matching); finds or creates the ControllerRevision of the current template (its hash is
// the pods' controller-revision-hash label); unless its previous writes are not cached yet
// (expectations.ts), creates a pod pinned (required node affinity on metadata.name, so the
// scheduler binds it) to every node needing one and deletes pods that must go, then — RollingUpdate
// — replaces old pods within maxUnavailable / maxSurge; prunes revisions beyond
// revisionHistoryLimit; writes the status. Decisions are daemonset-plan.ts's.
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import { isEverything, labelSelectorFromObject, matches, type Selector } from '../api/selectors.js';
import type { KubeObject } from '../api/types.js';
import { NAMESPACE_INDEX, objectCacheKey, type Indexer } from '../client/cache.js';
import type { Client } from '../client/client.js';
import { createEventRecorder, type EventRecorder } from '../client/events.js';
import { done, requeueAfter, type ControllerContext, type ControllerDef, type Result } from './controller.js';
import {
  claimRevisions,
  CONTROLLER_REVISIONS,
  createRevision,
  deleteRevision,
  equalRevisionData,
  maxRevision,
  newControllerRevision,
  REVISION_HASH_LABEL,
  RevisionCollision,
  setRevisionNumber,
  sortByRevision,
  templateHash,
  type ControllerRevision,
} from './controller-revision.js';
import { daemonPodTemplate, daemonSetCounts, pinToNode, planManage, planRollingUpdate, type DaemonSetCounts } from './daemonset-plan.js';
import { ControllerExpectations, EXPECTATIONS_TTL_MS } from './expectations.js';
import { adoptPod, createPod, deletePod, isNamespaceTerminating, PODS, releasePod } from './pod-control.js';
import { activePods, controllerOf, planClaims, slowStartBatches } from './replicaset-plan.js';

export const DAEMONSETS = resourceFor('apps', 'v1', 'daemonsets');
export const NODES = resourceFor('', 'v1', 'nodes');
export const DAEMONSET_COMPONENT = 'daemonset-controller';
/** Upstream's BurstReplicas: at most this many creates (and deletes) per sync. */
export const DS_BURST_REPLICAS = 250;

interface State {
  expectations: ControllerExpectations;
  events: EventRecorder;
  failedBackoff: Backoff;
}

/** client-go's flowcontrol.Backoff (1 s doubling to 15 min, forgotten after 2 × max idle), keyed
 *  as upstream's failedPodsBackoffKey: `<ds uid>/<observedGeneration>/<node>`. */
export class Backoff {
  private readonly entries = new Map<string, { delay: number; last: number }>();
  constructor(
    private readonly initialMs = 1000,
    private readonly maxMs = 15 * 60 * 1000,
  ) {}
  private live(key: string, now: number) {
    const e = this.entries.get(key);
    if (e && now - e.last > 2 * this.maxMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }
  /** IsInBackOffSinceUpdate. */
  inBackoff(key: string, now: number): boolean {
    const e = this.live(key, now);
    return e !== undefined && now - e.last < e.delay;
  }
  /** The current delay (0 for none). */
  get(key: string, now: number): number {
    return this.live(key, now)?.delay ?? 0;
  }
  /** Next: start or double the delay from now. */
  next(key: string, now: number): void {
    const e = this.live(key, now);
    this.entries.set(key, { delay: e ? Math.min(e.delay * 2, this.maxMs) : this.initialMs, last: now });
  }
}

const asPod = (o: KubeObject) => o as unknown as Pod;
const asDs = (o: KubeObject) => o as unknown as DaemonSet;

function selectorOf(ds: KubeObject): Selector | undefined {
  try {
    return labelSelectorFromObject(asDs(ds).spec?.selector);
  } catch {
    return undefined;
  }
}

/** A copy with every object's keys sorted, as Go's json.Marshal writes a map. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (!v || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sortKeys(o[k])]));
}

/** getPatch: the revision data — the template, to be put back whole by `rollout undo` (a
 *  strategic merge patch), keys sorted as upstream's marshalled map. */
export function revisionData(ds: DaemonSet): unknown {
  return sortKeys({ spec: { template: { ...(ds.spec?.template ?? {}), $patch: 'replace' } } });
}

/**
 * A new DaemonSet controller definition for startController. Watches DaemonSets, Pods (to their
 * controlling DaemonSet; orphans to every DaemonSet of the namespace selecting them), Nodes (to
 * every DaemonSet) and ControllerRevisions. Holds per-client state: start each definition once.
 */
export function createDaemonSetController(): ControllerDef {
  const states = new WeakMap<Client, State>();
  let dsCache: Indexer | undefined;

  const podKeys = (obj: KubeObject): string[] | undefined => {
    const ns = obj.metadata.namespace ?? '';
    const ref = controllerOf(obj);
    if (ref) return ref.kind === 'DaemonSet' && ref.apiVersion.startsWith('apps/') ? [`${ns}/${ref.name}`] : undefined;
    if (!dsCache || obj.metadata.deletionTimestamp) return undefined;
    return dsCache
      .byIndex(NAMESPACE_INDEX, ns)
      .filter((ds) => {
        const sel = selectorOf(ds);
        return sel !== undefined && !isEverything(sel) && matches(sel, obj.metadata.labels);
      })
      .map(objectCacheKey);
  };
  const stateFor = (ctx: ControllerContext): State => {
    let s = states.get(ctx.client);
    if (!s) {
      s = { expectations: new ControllerExpectations(ctx.clock), events: createEventRecorder(ctx.client, { component: DAEMONSET_COMPONENT, clock: ctx.clock }), failedBackoff: new Backoff() };
      states.set(ctx.client, s);
    }
    return s;
  };

  return {
    name: 'daemonset',
    watches: [
      { rt: DAEMONSETS },
      { rt: PODS, keyOf: podKeys },
      { rt: NODES, keyOf: () => dsCache?.listKeys() },
      { rt: CONTROLLER_REVISIONS, keyOf: (o) => { const r = controllerOf(o); return r?.kind === 'DaemonSet' ? `${o.metadata.namespace}/${r.name}` : undefined; } },
    ],
    async reconcile(key, ctx) {
      dsCache = ctx.informer(DAEMONSETS).cache;
      return syncDaemonSet(key, ctx, stateFor(ctx));
    },
  };
}

async function syncDaemonSet(key: string, ctx: ControllerContext, st: State): Promise<Result> {
  const cached = ctx.informer(DAEMONSETS).cache.get(key);
  if (!cached) {
    st.expectations.delete(key);
    return done();
  }
  const dsObj: KubeObject = { ...cached, apiVersion: 'apps/v1', kind: 'DaemonSet' };
  const ds = asDs(dsObj);
  const selector = selectorOf(dsObj);
  if (!selector) return done();
  if (isEverything(selector)) {
    st.events.event(dsObj, 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.');
    return done();
  }
  if (dsObj.metadata.deletionTimestamp) return done();
  const ns = dsObj.metadata.namespace ?? '';
  const podInf = ctx.informer(PODS);
  const nodes = ctx.informer(NODES).cache.list().map((n) => n as unknown as Node).sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
  const pods = await claimPods(ctx.client, dsObj, selector, podInf.cache.byIndex(NAMESPACE_INDEX, ns).map(asPod));

  const { cur, old } = await constructHistory(ctx, dsObj, selector, pods);
  const hash = cur.metadata.labels?.[REVISION_HASH_LABEL] ?? '';
  const view = { get: (name: string) => podInf.cache.get(`${ns}/${name}`), seenRevision: () => podInf.lastSyncResourceVersion() };
  const now = ctx.clock.now();
  if (!st.expectations.satisfied(key, view)) {
    await writeStatus(ctx.client, dsObj, daemonSetCounts(ds, nodes, pods, hash, now), false);
    return requeueAfter(EXPECTATIONS_TTL_MS + 1000);
  }

  let err: Error | undefined;
  const backoffKey = (node: string) => `${dsObj.metadata.uid}/${ds.status?.observedGeneration ?? 0}/${node}`;
  const m = planManage(ds, nodes, pods, hash, (node) => st.failedBackoff.inBackoff(backoffKey(node), now));
  for (const [pod, node] of m.failed) {
    st.failedBackoff.next(backoffKey(node), now);
    st.events.event(dsObj, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${ns}/${pod} on node ${node}, will try to kill it`);
  }
  const waits = m.backedOff.map((node) => st.failedBackoff.get(backoffKey(node), now));
  err = await syncNodes(ctx.client, st, key, dsObj, m.delete, m.create, hash);
  if (!err && st.expectations.satisfied(key, view) && (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
    const ru = planRollingUpdate(ds, nodes, pods, hash, now);
    err = await syncNodes(ctx.client, st, key, dsObj, ru.delete, ru.create, hash);
  }
  await cleanupHistory(ctx.client, ds, pods, old);
  const counts = daemonSetCounts(ds, nodes, pods, hash, now);
  await writeStatus(ctx.client, dsObj, counts, true);
  if (err) throw err;
  const minReady = ds.spec?.minReadySeconds ?? 0;
  if (minReady > 0 && counts.numberReady !== counts.numberAvailable) waits.push(minReady * 1000);
  return waits.length ? requeueAfter(Math.min(...waits)) : done();
}

/** ClaimPods, as the ReplicaSet controller's: adoption rechecks the DaemonSet with the server. */
async function claimPods(client: Client, ds: KubeObject, selector: Selector, pods: Pod[]): Promise<Pod[]> {
  const plan = planClaims(ds as never, selector, pods);
  await Promise.all(plan.release.map((p) => releasePod(client, p as unknown as KubeObject, ds)));
  if (plan.adopt.length === 0) return plan.owned;
  await recheck(client, ds);
  // Adopt only pods still active: a terminal orphan is not worth taking.
  const adopt = activePods(plan.adopt);
  await Promise.all(adopt.map((p) => adoptPod(client, p as unknown as KubeObject, ds)));
  return [...plan.owned, ...adopt];
}

/** RecheckDeletionTimestamp: the DaemonSet, read from the server, is still this one and not being
 *  deleted (else nothing may be adopted). */
async function recheck(client: Client, ds: KubeObject): Promise<void> {
  const fresh = await client.get(DAEMONSETS, ds.metadata.name ?? '', { namespace: ds.metadata.namespace });
  if (fresh.metadata.uid !== ds.metadata.uid) throw new Error(`original DaemonSet ${objectCacheKey(ds)} is gone: got uid ${fresh.metadata.uid}, wanted ${ds.metadata.uid}`);
  if (fresh.metadata.deletionTimestamp) throw new Error(`${objectCacheKey(ds)} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
}

/** constructHistory: the revision matching the current template (created, or renumbered to the
 *  newest, as needed; duplicates removed, their pods relabelled) and the others. */
async function constructHistory(ctx: ControllerContext, ds: KubeObject, selector: Selector, pods: Pod[]): Promise<{ cur: ControllerRevision; old: ControllerRevision[] }> {
  const all = await claimRevisions(ctx.client, ctx.informer(CONTROLLER_REVISIONS).cache, ds, selector, () => recheck(ctx.client, ds));
  const data = revisionData(asDs(ds));
  const matching = sortByRevision(all.filter((r) => equalRevisionData(r.data, data)));
  const old = all.filter((r) => !matching.includes(r));
  const next = maxRevision(old) + 1;
  if (matching.length === 0) return { cur: await snapshot(ctx.client, ds, data, next), old };
  const cur = matching[matching.length - 1]!;
  // dedupCurHistories: pods of a duplicate are relabelled to the kept revision's hash first.
  const keepHash = cur.metadata.labels?.[REVISION_HASH_LABEL];
  for (const dup of matching.slice(0, -1)) {
    const dupHash = dup.metadata.labels?.[REVISION_HASH_LABEL];
    if (keepHash && dupHash && dupHash !== keepHash) {
      for (const p of pods) {
        if (p.metadata?.labels?.[REVISION_HASH_LABEL] !== dupHash) continue;
        await ctx.client
          .patch(PODS, p.metadata.name ?? '', 'merge', { metadata: { labels: { [REVISION_HASH_LABEL]: keepHash } } }, { namespace: ds.metadata.namespace })
          .catch((e: unknown) => {
            if (!isStatusError(e, 'NotFound')) throw e;
          });
      }
    }
    await deleteRevision(ctx.client, dup);
  }
  return { cur: cur.revision < next ? await setRevisionNumber(ctx.client, cur, next) : cur, old };
}

/** snapshot: a new revision `<name>-<hash>`; on a name collision, status.collisionCount goes up
 *  and the sync is retried with a different hash. */
async function snapshot(client: Client, ds: KubeObject, data: unknown, revision: number): Promise<ControllerRevision> {
  const d = asDs(ds);
  const hash = templateHash(d.spec?.template, d.status?.collisionCount);
  const labels = { ...(d.spec?.template?.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash };
  const rev = newControllerRevision(ds, `${ds.metadata.name}-${hash}`, labels, data, revision, ds.metadata.annotations);
  try {
    return await createRevision(client, rev);
  } catch (e) {
    if (!(e instanceof RevisionCollision)) throw e;
    const fresh = await client.get(DAEMONSETS, ds.metadata.name ?? '', { namespace: ds.metadata.namespace });
    const status = { ...((fresh.status as object) ?? {}), collisionCount: (asDs(fresh).status?.collisionCount ?? 0) + 1 };
    await client.update(DAEMONSETS, { ...fresh, status }, { subresource: 'status' });
    throw new Error(`found a stale ControllerRevision ${rev.metadata.name} for daemonset ${objectCacheKey(ds)}; retrying with a new collision count`);
  }
}

/** cleanupHistory: old revisions beyond revisionHistoryLimit, oldest first, unless a pod still
 *  carries their hash. */
async function cleanupHistory(client: Client, ds: DaemonSet, pods: Pod[], old: ControllerRevision[]): Promise<void> {
  const toKill = old.length - (ds.spec?.revisionHistoryLimit ?? 10);
  if (toKill <= 0) return;
  const live = new Set(pods.map((p) => p.metadata?.labels?.[REVISION_HASH_LABEL]).filter((h) => h !== undefined));
  let killed = 0;
  for (const r of sortByRevision(old)) {
    if (killed >= toKill) break;
    if (live.has(r.metadata.labels?.[REVISION_HASH_LABEL] ?? r.metadata.name ?? '')) continue;
    await deleteRevision(client, r);
    killed++;
  }
}

/** syncNodes: deletes then creates (slow-start batches, pinned to each node), at most
 *  DS_BURST_REPLICAS of each, recording expectations. Returns the first error. */
async function syncNodes(client: Client, st: State, key: string, ds: KubeObject, del: string[], create: string[], hash: string): Promise<Error | undefined> {
  if (del.length === 0 && create.length === 0) return undefined;
  del = del.slice(0, DS_BURST_REPLICAS);
  create = create.slice(0, DS_BURST_REPLICAS);
  st.expectations.begin(key);
  let firstErr: Error | undefined;
  const asErr = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));
  for (const name of del) st.expectations.expectDeleted(key, name);
  await Promise.all(
    del.map(async (name) => {
      try {
        await deletePod(client, st.events, name, ds);
      } catch (e) {
        st.expectations.deletionFailed(key, name);
        if (!isStatusError(e, 'NotFound')) firstErr ??= asErr(e);
      }
    }),
  );
  const template = daemonPodTemplate(asDs(ds), hash);
  let i = 0;
  for (const size of slowStartBatches(create.length)) {
    const batch = create.slice(i, i + size);
    i += size;
    const results = await Promise.allSettled(batch.map((node) => createPod(client, st.events, pinToNode(template, node), ds)));
    let batchErr: Error | undefined;
    for (const r of results) {
      if (r.status === 'fulfilled') st.expectations.expectCreated(key, r.value.metadata.name ?? '', r.value.metadata.resourceVersion ?? '');
      else if (!isNamespaceTerminating(r.reason)) batchErr ??= asErr(r.reason);
    }
    if (batchErr) {
      firstErr ??= batchErr;
      break;
    }
  }
  return firstErr;
}

/** storeDaemonSetStatus: written only when something changed; observedGeneration only moves when
 *  the sync could act (expectations satisfied). One retry onto a fresh copy after a conflict. */
async function writeStatus(client: Client, ds: KubeObject, counts: DaemonSetCounts, updateObservedGen: boolean): Promise<void> {
  const cur = (asDs(ds).status ?? {}) as Record<string, unknown>;
  const observedGeneration = updateObservedGen ? (ds.metadata.generation ?? 0) : ((cur.observedGeneration as number | undefined) ?? 0);
  const next: Record<string, unknown> = { ...cur, ...counts, observedGeneration };
  const keys = [...Object.keys(counts), 'observedGeneration'];
  if (keys.every((k) => (cur[k] ?? 0) === next[k])) return;
  try {
    await client.update(DAEMONSETS, { ...ds, status: next }, { subresource: 'status' });
  } catch (e) {
    if (!isStatusError(e, 'Conflict')) throw e;
    const fresh = await client.get(DAEMONSETS, ds.metadata.name ?? '', { namespace: ds.metadata.namespace });
    if (fresh.metadata.uid !== ds.metadata.uid || fresh.metadata.generation !== ds.metadata.generation) return;
    await client.update(DAEMONSETS, { ...fresh, status: { ...((fresh.status as object) ?? {}), ...counts, observedGeneration } }, { subresource: 'status' });
  }
}

// The ReplicaSet controller of kube-controller-manager (pkg/controller/replicaset, 1.32): keeps
// spec.replicas active pods matching the selector. Each reconcile reads the ReplicaSet and its
// namespace's pods from the caches, claims pods (adopting matching orphans, releasing its pods that
// stopped matching), and — unless its previous writes are not in the cache yet (expectations.ts)
// — creates pods from the template in slow-start bursts or deletes the pods ActivePodsWithRanks
// puts first; then it writes the status. The decisions are replicaset-plan.ts's; this file only
// reads and writes.
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import { labelSelectorFromObject, matches, type Selector } from '../api/selectors.js';
import type { KubeObject } from '../api/types.js';
import { NAMESPACE_INDEX, objectCacheKey, type Indexer } from '../client/cache.js';
import type { Client } from '../client/client.js';
import { createEventRecorder, type EventRecorder } from '../client/events.js';
import type { Informer } from '../client/informer.js';
import type { Clock } from '../util/clock.js';
import { logger } from '../util/log.js';
import { done, requeueAfter, type ControllerContext, type ControllerDef, type Result } from './controller.js';
import { ControllerExpectations, EXPECTATIONS_TTL_MS } from './expectations.js';
import { adoptPod, createPod, deletePod, isNamespaceTerminating, PODS, releasePod } from './pod-control.js';
import { activePods, calculateStatus, controllerOf, nextAvailableInMs, planClaims, planReplicas, slowStartBatches, statusNeedsWrite, type ManageError } from './replicaset-plan.js';

const log = logger('replicaset-controller');
export const REPLICASETS = resourceFor('apps', 'v1', 'replicasets');
/** The events' source component, as kube-controller-manager's. */
export const REPLICASET_COMPONENT = 'replicaset-controller';

/** State of one running controller: bound to the client it was started with. */
interface State {
  expectations: ControllerExpectations;
  events: EventRecorder;
}

const asPod = (o: KubeObject) => o as unknown as Pod;
const asObj = (o: ReplicaSet | Pod) => o as unknown as KubeObject;

/** The selector of a ReplicaSet, or undefined when it does not parse (validation should have
 *  refused it; upstream logs and skips such a ReplicaSet). */
function selectorOf(rs: ReplicaSet): Selector | undefined {
  try {
    return labelSelectorFromObject(rs.spec?.selector);
  } catch {
    return undefined;
  }
}

/**
 * A new ReplicaSet controller definition, for startController. Watches ReplicaSets and Pods; a pod
 * maps to its controlling ReplicaSet, an orphan to every ReplicaSet of its namespace that selects
 * it. The definition holds state (expectations, the event recorder, per client): start each
 * definition once.
 */
export function createReplicaSetController(): ControllerDef {
  const states = new WeakMap<Client, State>();
  // keyOf receives only the pod; orphans need the ReplicaSet cache, taken from the first
  // reconcile. Before that every ReplicaSet is queued by its own initial sync anyway.
  let rsCache: Indexer | undefined;

  const podKeys = (obj: KubeObject): string[] | undefined => {
    const ns = obj.metadata.namespace ?? '';
    const ref = controllerOf(obj);
    if (ref) return ref.kind === 'ReplicaSet' && ref.apiVersion.startsWith('apps/') ? [`${ns}/${ref.name}`] : undefined;
    if (!rsCache || obj.metadata.deletionTimestamp) return undefined;
    return rsCache
      .byIndex(NAMESPACE_INDEX, ns)
      .filter((rs) => {
        const sel = selectorOf(rs as unknown as ReplicaSet);
        return sel !== undefined && matches(sel, obj.metadata.labels);
      })
      .map(objectCacheKey);
  };

  const stateFor = (ctx: ControllerContext): State => {
    let s = states.get(ctx.client);
    if (!s) {
      s = { expectations: new ControllerExpectations(ctx.clock), events: createEventRecorder(ctx.client, { component: REPLICASET_COMPONENT, clock: ctx.clock }) };
      states.set(ctx.client, s);
    }
    return s;
  };

  return {
    name: 'replicaset',
    watches: [{ rt: REPLICASETS }, { rt: PODS, keyOf: podKeys }],
    async reconcile(key, ctx) {
      const rsInf = ctx.informer(REPLICASETS);
      rsCache = rsInf.cache;
      return syncReplicaSet(key, ctx, stateFor(ctx), rsInf, ctx.informer(PODS));
    },
  };
}

/** syncReplicaSet. Throws (for a retry with backoff) when claiming or managing pods failed, after
 *  the status has recorded the failure. */
async function syncReplicaSet(key: string, ctx: ControllerContext, st: State, rsInf: Informer, podInf: Informer): Promise<Result> {
  const cached = rsInf.cache.get(key);
  if (!cached) {
    st.expectations.delete(key);
    return done();
  }
  const rs = cached as unknown as ReplicaSet;
  const selector = selectorOf(rs);
  if (!selector) {
    log.warn('invalid selector, skipping', { replicaset: key });
    return done();
  }
  const ns = cached.metadata.namespace ?? '';
  const needsSync = st.expectations.satisfied(key, {
    get: (name) => podInf.cache.get(`${ns}/${name}`),
    seenRevision: () => podInf.lastSyncResourceVersion(),
  });
  const pods = activePods(podInf.cache.byIndex(NAMESPACE_INDEX, ns).map(asPod));
  const owned = await claimPods(ctx.client, cached, selector, pods);

  let manageErr: Error | undefined;
  if (needsSync && !cached.metadata.deletionTimestamp) {
    const related = relatedPods(rs, rsInf, podInf);
    manageErr = await manageReplicas(ctx.client, st, key, cached, owned, related, ctx.clock);
  }

  const now = ctx.clock.now();
  const err: ManageError | undefined = manageErr ? { message: manageErr.message } : undefined;
  const status = calculateStatus(rs, owned, err, now);
  if (statusNeedsWrite(rs, status)) await writeStatus(ctx.client, cached, { ...status, observedGeneration: cached.metadata.generation ?? 0 });
  if (manageErr) throw manageErr;

  const waits: number[] = [];
  const avail = nextAvailableInMs(rs, owned, now);
  if (avail !== undefined) waits.push(avail);
  // A lost watch event must not stall the ReplicaSet: look again once expectations expire.
  if (!needsSync) waits.push(EXPECTATIONS_TTL_MS + 1000);
  return waits.length ? requeueAfter(Math.min(...waits)) : done();
}

/** ClaimPods: releases and adopts as planned; returns the pods that count. Adoption first checks
 *  with the API server (not the cache) that the ReplicaSet is still this one and not being
 *  deleted, as upstream's RecheckDeletionTimestamp. */
async function claimPods(client: Client, rs: KubeObject, selector: Selector, pods: Pod[]): Promise<Pod[]> {
  const plan = planClaims(rs as unknown as ReplicaSet, selector, pods);
  await Promise.all(plan.release.map((p) => releasePod(client, asObj(p), rs)));
  if (plan.adopt.length === 0) return plan.owned;
  const fresh = await client.get(REPLICASETS, rs.metadata.name ?? '', { namespace: rs.metadata.namespace });
  if (fresh.metadata.uid !== rs.metadata.uid) {
    throw new Error(`original ReplicaSet ${objectCacheKey(rs)} is gone: got uid ${fresh.metadata.uid}, wanted ${rs.metadata.uid}`);
  }
  if (fresh.metadata.deletionTimestamp) throw new Error(`${objectCacheKey(rs)} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  const results = await Promise.allSettled(plan.adopt.map((p) => adoptPod(client, asObj(p), rs)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return [...plan.owned, ...plan.adopt];
}

/** The pods of every ReplicaSet controlled by rs's controller (a Deployment's), for node ranks;
 *  none when rs has no controller, as upstream. */
function relatedPods(rs: ReplicaSet, rsInf: Informer, podInf: Informer): Pod[] {
  const owner = controllerOf(rs as unknown as KubeObject);
  if (!owner) return [];
  const ns = rs.metadata?.namespace ?? '';
  const siblings = new Set(
    rsInf.cache
      .byIndex(NAMESPACE_INDEX, ns)
      .filter((o) => controllerOf(o)?.uid === owner.uid)
      .map((o) => o.metadata.uid),
  );
  return podInf.cache
    .byIndex(NAMESPACE_INDEX, ns)
    .filter((p) => siblings.has(controllerOf(p)?.uid))
    .map(asPod);
}

/** manageReplicas: creates (in slow-start batches, stopping at the first failing batch) or deletes
 *  (all at once) as planned, recording expectations. Returns the first error, if any; a pod already
 *  gone and a terminating namespace are not errors. */
async function manageReplicas(client: Client, st: State, key: string, rs: KubeObject, owned: Pod[], related: Pod[], clock: Clock): Promise<Error | undefined> {
  const plan = planReplicas(rs as unknown as ReplicaSet, owned, related, clock.now());
  const template = (rs as unknown as ReplicaSet).spec?.template ?? {};
  if ('create' in plan) {
    st.expectations.begin(key);
    for (const size of slowStartBatches(plan.create)) {
      const results = await Promise.allSettled(Array.from({ length: size }, () => createPod(client, st.events, template, rs)));
      let firstErr: Error | undefined;
      for (const r of results) {
        if (r.status === 'fulfilled') st.expectations.expectCreated(key, r.value.metadata.name ?? '', r.value.metadata.resourceVersion ?? '');
        else if (!isNamespaceTerminating(r.reason)) firstErr ??= r.reason instanceof Error ? r.reason : new Error(String(r.reason));
      }
      if (firstErr) return firstErr;
    }
    return undefined;
  }
  if ('delete' in plan) {
    st.expectations.begin(key);
    for (const p of plan.delete) st.expectations.expectDeleted(key, p.metadata?.name ?? '', p.metadata?.uid);
    let firstErr: Error | undefined;
    await Promise.all(
      plan.delete.map(async (p) => {
        const name = p.metadata?.name ?? '';
        try {
          await deletePod(client, st.events, name, rs);
        } catch (e) {
          st.expectations.deletionFailed(key, name);
          if (!isStatusError(e, 'NotFound')) firstErr ??= e instanceof Error ? e : new Error(String(e));
        }
      }),
    );
    return firstErr;
  }
  return undefined;
}

/** updateReplicaSetStatus: PUT the status subresource; on a conflict, once more onto a fresh copy
 *  of the same generation. */
async function writeStatus(client: Client, rs: KubeObject, status: object): Promise<void> {
  try {
    await client.update(REPLICASETS, { ...rs, status }, { subresource: 'status' });
  } catch (e) {
    if (!isStatusError(e, 'Conflict')) throw e;
    const fresh = await client.get(REPLICASETS, rs.metadata.name ?? '', { namespace: rs.metadata.namespace });
    // A changed spec (or a new ReplicaSet of that name) brings its own reconcile; this status
    // was computed for the one the cache had.
    if (fresh.metadata.uid !== rs.metadata.uid || fresh.metadata.generation !== rs.metadata.generation) return;
    await client.update(REPLICASETS, { ...fresh, status }, { subresource: 'status' });
  }
}

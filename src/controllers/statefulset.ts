// The StatefulSet controller of kube-controller-manager (pkg/controller/statefulset, 1.32). Each
// reconcile reads the set, its pods, claims and ControllerRevisions from the caches; adopts
// orphans named and labelled as its pods; finds or creates the update revision (bumping
// collisionCount on a name clash); asks statefulset-plan.ts for the writes of one sync and applies
// them in order — claims before their pod, events worded as upstream's — then prunes the revision
// history and writes the status. The decisions are the plan's; this file only reads and writes.
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import { labelSelectorFromObject, matches, type Selector } from '../api/selectors.js';
import type { KubeObject, OwnerReference } from '../api/types.js';
import { NAMESPACE_INDEX, type Indexer } from '../client/cache.js';
import type { Client } from '../client/client.js';
import { createEventRecorder, type EventRecorder } from '../client/events.js';
import { logger } from '../util/log.js';
import { done, requeueAfter, type ControllerContext, type ControllerDef, type Result } from './controller.js';
import { claimRevisions } from './controller-revision.js';
import { adoptPod, PODS, releasePod } from './pod-control.js';
import { completeRollingUpdate, parentAndOrdinal, planStatefulSet, revisionOf, statusNeedsWrite, type Action, type StatefulSet, type StatefulSetStatus } from './statefulset-plan.js';
import { decideUpdateRevision, equalRevision, revisionsToPrune, sortRevisions, templateOf, type ControllerRevision } from './statefulset-revisions.js';

const log = logger('statefulset-controller');
export const STATEFULSETS = resourceFor('apps', 'v1', 'statefulsets');
export const CONTROLLER_REVISIONS = resourceFor('apps', 'v1', 'controllerrevisions');
export const PVCS = resourceFor('', 'v1', 'persistentvolumeclaims');
/** The events' source component, as kube-controller-manager's. */
export const STATEFULSET_COMPONENT = 'statefulset-controller';
/** A revision create that found its own revision already there (the cache lags): look again shortly. */
const CACHE_CATCH_UP_MS = 100;
/** Upstream's MaxBatchSize for Parallel slow-start batches. */
const MAX_BATCH = 500;

const controllerOf = (o: KubeObject): OwnerReference | undefined => o.metadata.ownerReferences?.find((r) => r.controller);
const setKeyOf = (o: KubeObject): string | undefined => {
  const ref = controllerOf(o);
  return ref?.kind === 'StatefulSet' && ref.apiVersion.startsWith('apps/') ? `${o.metadata.namespace}/${ref.name}` : undefined;
};
const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function selectorOf(set: StatefulSet): Selector | undefined {
  try {
    return labelSelectorFromObject(set.spec.selector as never);
  } catch {
    return undefined;
  }
}

/**
 * A new StatefulSet controller definition, for startController. Watches StatefulSets, Pods (mapped
 * to their controlling set; an orphan to the set its name says it belongs to) and
 * ControllerRevisions; claims are watched for the cache only. Holds per-client event recorders:
 * start each definition once.
 */
export function createStatefulSetController(): ControllerDef {
  const recorders = new WeakMap<Client, EventRecorder>();
  let setCache: Indexer | undefined;
  const podKeys = (o: KubeObject): string | undefined => {
    const k = setKeyOf(o);
    if (k || controllerOf(o) || !setCache || o.metadata.deletionTimestamp) return k;
    const parent = parentAndOrdinal(o.metadata.name ?? '')?.parent;
    const key = `${o.metadata.namespace}/${parent}`;
    return parent && setCache.get(key) ? key : undefined;
  };
  return {
    name: 'statefulset',
    watches: [{ rt: STATEFULSETS }, { rt: PODS, keyOf: podKeys }, { rt: CONTROLLER_REVISIONS, keyOf: setKeyOf }, { rt: PVCS, keyOf: () => undefined }],
    async reconcile(key, ctx) {
      setCache = ctx.informer(STATEFULSETS).cache;
      let rec = recorders.get(ctx.client);
      if (!rec) {
        rec = createEventRecorder(ctx.client, { component: STATEFULSET_COMPONENT, clock: ctx.clock });
        recorders.set(ctx.client, rec);
      }
      return syncStatefulSet(key, ctx, rec);
    },
  };
}

async function syncStatefulSet(key: string, ctx: ControllerContext, events: EventRecorder): Promise<Result> {
  const cached = ctx.informer(STATEFULSETS).cache.get(key);
  if (!cached) return done();
  const set = { ...(cached as unknown as StatefulSet), apiVersion: 'apps/v1', kind: 'StatefulSet' };
  const ns = set.metadata.namespace ?? '';
  const selector = selectorOf(set);
  if (!selector) {
    log.warn('invalid selector, skipping', { statefulset: key });
    return done();
  }
  const uid = set.metadata.uid;
  const inNs = (rt: typeof PODS) => ctx.informer(rt).cache.byIndex(NAMESPACE_INDEX, ns);

  // getPodsForStatefulSet (ClaimPods): ours that still match the selector and carry our name
  // (the others are released), plus orphans that do (adopted).
  const pods: KubeObject[] = [];
  const member = (p: KubeObject) => matches(selector, p.metadata.labels) && parentAndOrdinal(p.metadata.name ?? '')?.parent === set.metadata.name;
  for (const p of inNs(PODS)) {
    const ref = controllerOf(p);
    if (ref?.uid === uid) {
      if (member(p) || p.metadata.deletionTimestamp) pods.push(p);
      else await releasePod(ctx.client, p, set);
    } else if (!ref && !set.metadata.deletionTimestamp && !p.metadata.deletionTimestamp && member(p)) {
      await adoptPod(ctx.client, p, set);
      return requeueAfter(0);
    }
  }

  // ClaimControllerRevisions: ours that match, orphans adopted once the set is re-read unchanged.
  const canAdopt = async () => {
    const fresh = await ctx.client.get(STATEFULSETS, set.metadata.name ?? '', { namespace: ns });
    if (fresh.metadata.uid !== uid || fresh.metadata.deletionTimestamp) throw new Error(`original StatefulSet ${key} is gone or being deleted`);
  };
  const claimed = await claimRevisions(ctx.client, ctx.informer(CONTROLLER_REVISIONS).cache, set, selector, canAdopt);
  const revisions = sortRevisions(claimed as ControllerRevision[]);
  let collisionCount = set.status?.collisionCount ?? 0;
  const decision = decideUpdateRevision(set as never, revisions, collisionCount);
  let update: ControllerRevision;
  if ('use' in decision) update = decision.use;
  else if ('renumber' in decision) update = (await ctx.client.update(CONTROLLER_REVISIONS, { ...decision.renumber, revision: decision.revision } as KubeObject, { namespace: ns })) as ControllerRevision;
  else {
    try {
      update = (await ctx.client.create(CONTROLLER_REVISIONS, decision.create, { namespace: ns })) as ControllerRevision;
    } catch (e) {
      if (!isStatusError(e, 'AlreadyExists')) throw e;
      const existing = (await ctx.client.get(CONTROLLER_REVISIONS, decision.create.metadata.name ?? '', { namespace: ns })) as ControllerRevision;
      if (!equalRevision(existing, decision.create) || controllerOf(existing)?.uid !== uid) {
        // A hash collision: count it, and the next sync hashes to another name.
        collisionCount++;
        await writeStatus(ctx.client, set, { ...(set.status ?? {}), collisionCount } as StatefulSetStatus);
        return done();
      }
      return requeueAfter(CACHE_CATCH_UP_MS);
    }
  }
  const current = revisions.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
  const claims = new Map(inNs(PVCS).map((c) => [c.metadata.name ?? '', c]));
  const plan = planStatefulSet({
    set,
    pods,
    claims,
    current: { name: current.metadata.name ?? '', template: templateOf(current) },
    update: { name: update.metadata.name ?? '', template: templateOf(update) },
    collisionCount,
    nowMs: ctx.clock.now(),
  });
  if (plan.waiting) log.debug('statefulset sync stopped', { statefulset: key, why: plan.waiting });

  const errors: unknown[] = [];
  const parallel = set.spec.podManagementPolicy === 'Parallel';
  const apply = async (a: Action) => {
    try {
      await applyAction(ctx.client, events, set, a);
    } catch (e) {
      errors.push(e);
    }
  };
  if (parallel) {
    // Claims' owners first (upstream fixes condemned pods' claims before deleting any pod), then
    // the rest in slow-start batches (1, 2, 4, … up to 500), stopping after a batch that failed.
    const refs = plan.actions.filter((a) => a.op === 'claimRefs');
    const rest = plan.actions.filter((a) => a.op !== 'claimRefs');
    await Promise.all(refs.map(apply));
    for (let i = 0, size = 1; i < rest.length && !errors.length; i += size, size = Math.min(size * 2, MAX_BATCH)) {
      await Promise.all(rest.slice(i, i + size).map(apply));
    }
  } else {
    for (const a of plan.actions) {
      await apply(a);
      if (errors.length) break;
    }
  }

  // truncateHistory: keep current, update and every live pod's revision.
  const live = new Set<string>([current.metadata.name ?? '', update.metadata.name ?? '']);
  for (const p of pods) {
    const r = revisionOf(p);
    if (r) live.add(r);
  }
  for (const r of revisionsToPrune(revisions, live, set.spec.revisionHistoryLimit ?? 10)) {
    try {
      await ctx.client.delete(CONTROLLER_REVISIONS, r.metadata.name ?? '', { namespace: ns });
    } catch (e) {
      if (!isStatusError(e, 'NotFound')) errors.push(e);
    }
  }

  const status = completeRollingUpdate(set, plan.status);
  if (statusNeedsWrite(set, status)) await writeStatus(ctx.client, set, status);
  if (errors.length) throw errors[0] instanceof Error ? errors[0] : new Error(String(errors[0]));
  const minReady = set.spec.minReadySeconds ?? 0;
  if (minReady > 0 && status.availableReplicas < status.readyReplicas) return requeueAfter(minReady * 1000);
  return done();
}

/** One planned write, with upstream's events. Throws what failed (a 404 on delete is no failure). */
async function applyAction(client: Client, events: EventRecorder, set: StatefulSet, a: Action): Promise<void> {
  const ns = set.metadata.namespace;
  const podName = a.pod.metadata.name ?? '';
  const setName = set.metadata.name ?? '';
  const createClaims = async (claims: KubeObject[]) => {
    for (const c of claims) {
      try {
        await client.create(PVCS, c, { namespace: ns });
        events.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${c.metadata.name} Pod ${podName} in StatefulSet ${setName} success`);
      } catch (e) {
        if (isStatusError(e, 'AlreadyExists')) continue;
        events.event(set, 'Warning', 'FailedCreate', `create Claim ${c.metadata.name} for Pod ${podName} in StatefulSet ${setName} failed error: ${errText(e)}`);
        throw e;
      }
    }
  };
  const podEvent = (verb: string, e?: unknown) => {
    const title = verb[0]?.toUpperCase() + verb.slice(1);
    if (e === undefined) events.event(set, 'Normal', `Successful${title}`, `${verb} Pod ${podName} in StatefulSet ${setName} successful`);
    else events.event(set, 'Warning', `Failed${title}`, `${verb} Pod ${podName} in StatefulSet ${setName} failed error: ${errText(e)}`);
  };
  switch (a.op) {
    case 'create': {
      await createClaims(a.claims);
      try {
        await client.create(PODS, a.pod, { namespace: ns });
      } catch (e) {
        // The name is taken: by our pod the cache has not seen yet (its watch event brings the
        // next sync), or by someone else's (retried with backoff). Upstream records nothing.
        if (!isStatusError(e, 'AlreadyExists')) podEvent('create', e);
        throw e;
      }
      podEvent('create');
      return;
    }
    case 'delete': {
      try {
        await client.delete(PODS, podName, { namespace: ns, ...(a.pod.metadata.uid ? { preconditions: { uid: a.pod.metadata.uid } } : {}) });
      } catch (e) {
        if (isStatusError(e, 'NotFound')) return;
        podEvent('delete', e);
        throw e;
      }
      podEvent('delete');
      return;
    }
    case 'update': {
      await createClaims(a.claims);
      try {
        await client.update(PODS, a.pod, { namespace: ns });
      } catch (e) {
        podEvent('update', e);
        throw e;
      }
      podEvent('update');
      return;
    }
    case 'claims': {
      await createClaims(a.claims);
      return;
    }
    case 'claimRefs': {
      await client.update(PVCS, { ...a.claim, metadata: { ...a.claim.metadata, ownerReferences: a.refs } }, { namespace: ns });
      return;
    }
  }
}

/** updateStatefulSetStatus: PUT the status subresource; on a conflict once more onto a fresh copy. */
async function writeStatus(client: Client, set: StatefulSet, status: StatefulSetStatus): Promise<void> {
  const body = { ...set, status } as unknown as KubeObject;
  try {
    await client.update(STATEFULSETS, body, { subresource: 'status', namespace: set.metadata.namespace });
  } catch (e) {
    if (!isStatusError(e, 'Conflict')) throw e;
    const fresh = await client.get(STATEFULSETS, set.metadata.name ?? '', { namespace: set.metadata.namespace });
    if (fresh.metadata.uid !== set.metadata.uid || fresh.metadata.generation !== set.metadata.generation) return;
    await client.update(STATEFULSETS, { ...fresh, status } as KubeObject, { subresource: 'status', namespace: set.metadata.namespace });
  }
}

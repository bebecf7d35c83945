// The Deployment controller (kube-controller-manager's, Kubernetes 1.32): for every Deployment it
// reads the ReplicaSets it controls from the cache, asks planDeployment what one sync changes, and
// applies it — ReplicaSets created, updated (size, replicas annotations, revision) and deleted,
// then the Deployment's revision annotation and status. Pods are watched only for Recreate, which
// waits for the old ones to be gone. Rollback (`kubectl rollout undo`) and restart are template
// changes: the plan finds the ReplicaSet whose template matches and gives it the next revision.
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import type { KubeObject, OwnerReference } from '../api/types.js';
import { NAMESPACE_INDEX, splitCacheKey } from '../client/cache.js';
import type { Client } from '../client/client.js';
import { createEventRecorder, type EventRecorder } from '../client/events.js';
import { done, requeueAfter, type ControllerContext, type ControllerDef, type Result } from './controller.js';
import { equalIgnoreHash, POD_TEMPLATE_HASH, type Deployment, type ReplicaSet } from './deployment-math.js';
import { planDeployment, type PlannedEvent } from './deployment-plan.js';

const deployments = resourceFor('apps', 'v1', 'deployments');
const replicasets = resourceFor('apps', 'v1', 'replicasets');
const pods = resourceFor('', 'v1', 'pods');

/** After a create that found the name taken by our own ReplicaSet (the cache had not seen it
 *  yet): look again shortly, the watch event is on its way. */
const CACHE_CATCH_UP_MS = 100;

const recorders = new WeakMap<Client, EventRecorder>();
/** One event recorder per client, so repeated events fold into counts as kube-controller-manager's do. */
function recorderFor(client: Client): EventRecorder {
  let r = recorders.get(client);
  if (!r) {
    r = createEventRecorder(client, { component: 'deployment-controller' });
    recorders.set(client, r);
  }
  return r;
}

/** Resolves when every event the Deployment controller recorded through this client was written (tests). */
export async function flushDeploymentEvents(client: Client): Promise<void> {
  await recorders.get(client)?.flush();
}

const controllerOf = (o: KubeObject): OwnerReference | undefined => o.metadata.ownerReferences?.find((r) => r.controller);

/** A ReplicaSet's key: its controlling Deployment's. */
function deploymentKeyOfReplicaSet(o: KubeObject): string | undefined {
  const ref = controllerOf(o);
  if (ref?.kind !== 'Deployment' || !ref.apiVersion.startsWith('apps/')) return undefined;
  return `${o.metadata.namespace}/${ref.name}`;
}

/** A Pod's key: the Deployment of its ReplicaSet. keyOf sees only the pod, so the Deployment's
 *  name comes from the ReplicaSet's, which is `<deployment>-<pod-template-hash>` for every
 *  ReplicaSet this controller creates; pods of other ReplicaSets map to nothing. */
function deploymentKeyOfPod(o: KubeObject): string | undefined {
  // Pods matter only while they go away (a Recreate waits for the old ones to be gone), as
  // upstream's deletePod handler; their other changes reach the Deployment through its
  // ReplicaSets' status. Skipping them keeps a 3,000-pod scale-up from re-planning per pod.
  const phase = (o as { status?: { phase?: string } }).status?.phase;
  if (!o.metadata.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') return undefined;
  const ref = controllerOf(o);
  const hash = o.metadata.labels?.[POD_TEMPLATE_HASH];
  if (ref?.kind !== 'ReplicaSet' || !hash || !ref.name.endsWith(`-${hash}`)) return undefined;
  return `${o.metadata.namespace}/${ref.name.slice(0, -hash.length - 1)}`;
}

const withKind = <T extends KubeObject>(o: T, apiVersion: string, kind: string): T => ({ ...o, apiVersion, kind });

/**
 * One sync of a Deployment. Writes go in the plan's order; a failed write throws (the runner
 * retries with backoff) and the next sync re-plans from the caches, so nothing half-applied is
 * remembered. Events are recorded only for writes that succeeded.
 */
async function reconcile(key: string, ctx: ControllerContext): Promise<Result> {
  const cached = ctx.informer<Deployment>(deployments).cache.get(key);
  if (!cached) return done();
  const d = withKind(cached, 'apps/v1', 'Deployment');
  const { namespace } = splitCacheKey(key);
  const uid = d.metadata.uid;
  const owned = ctx
    .informer<ReplicaSet>(replicasets)
    .cache.byIndex(NAMESPACE_INDEX, namespace ?? '')
    .filter((rs) => controllerOf(rs)?.uid === uid);

  let podPhases: Map<string, string[]> | undefined;
  if (d.spec.strategy?.type === 'Recreate') {
    const uids = new Set(owned.map((rs) => rs.metadata.uid));
    podPhases = new Map();
    for (const p of ctx.informer(pods).cache.byIndex(NAMESPACE_INDEX, namespace ?? '')) {
      const owner = controllerOf(p)?.uid;
      if (!owner || !uids.has(owner)) continue;
      const phase = ((p as { status?: { phase?: string } }).status?.phase ?? 'Pending');
      podPhases.set(owner, [...(podPhases.get(owner) ?? []), phase]);
    }
  }

  const plan = planDeployment({ deployment: d, replicaSets: owned, podPhases, nowMs: ctx.clock.now() });
  const recorder = recorderFor(ctx.client);
  const emit = (e: PlannedEvent | undefined) => e && recorder.event(d, e.type, e.reason, e.message);
  const versions = new Map<string, string | undefined>();

  for (const w of plan.writes) {
    if (w.op === 'create') {
      const body: KubeObject = { ...w.rs, metadata: { ...w.rs.metadata } };
      delete body.metadata.creationTimestamp;
      delete (body as { status?: unknown }).status;
      try {
        const made = await ctx.client.create(replicasets, body, { namespace });
        versions.set(made.metadata.name ?? '', made.metadata.resourceVersion);
      } catch (e) {
        if (!isStatusError(e, 'AlreadyExists')) {
          if (isStatusError(e)) {
            const msg = `Failed to create new replica set "${w.rs.metadata.name}": ${e.message}`;
            recorder.event(d, 'Warning', 'ReplicaSetCreateError', msg);
          }
          throw e;
        }
        return await onNameTaken(ctx, d, w.rs);
      }
      emit(w.event);
    } else if (w.op === 'update') {
      const name = w.rs.metadata.name ?? '';
      const rv = versions.has(name) ? versions.get(name) : w.rs.metadata.resourceVersion;
      const body = withKind({ ...w.rs, metadata: { ...w.rs.metadata, resourceVersion: rv } }, 'apps/v1', 'ReplicaSet');
      const updated = await ctx.client.update(replicasets, body, { namespace });
      versions.set(name, updated.metadata.resourceVersion);
      emit(w.event);
    } else {
      try {
        await ctx.client.delete(replicasets, w.name, { namespace, ...(w.uid ? { preconditions: { uid: w.uid } } : {}) });
      } catch (e) {
        if (!isStatusError(e, 'NotFound')) throw e;
      }
    }
  }

  let current: Deployment = d;
  if (plan.annotations) {
    current = await ctx.client.update<Deployment>(deployments, { ...d, metadata: { ...d.metadata, annotations: plan.annotations } }, { namespace });
  }
  if (plan.status) {
    await ctx.client.update(deployments, withKind({ ...current, status: plan.status }, 'apps/v1', 'Deployment'), { namespace, subresource: 'status' });
  }
  return plan.requeueAfterMs !== undefined ? requeueAfter(plan.requeueAfterMs) : done();
}

/**
 * The new ReplicaSet's name is taken. Ours with the same template: the cache lags, look again
 * soon. Anything else is a hash collision: status.collisionCount goes up, which changes the hash
 * and so the name at the next sync (upstream's getNewReplicaSet).
 */
async function onNameTaken(ctx: ControllerContext, d: Deployment, wanted: ReplicaSet): Promise<Result> {
  const namespace = d.metadata.namespace;
  let existing: ReplicaSet | undefined;
  try {
    existing = await ctx.client.get<ReplicaSet>(replicasets, wanted.metadata.name ?? '', { namespace });
  } catch (e) {
    if (!isStatusError(e, 'NotFound')) throw e;
    return requeueAfter(0);
  }
  if (controllerOf(existing)?.uid === d.metadata.uid && equalIgnoreHash(existing.spec.template, d.spec.template)) {
    return requeueAfter(CACHE_CATCH_UP_MS);
  }
  const status = { ...d.status, collisionCount: (d.status?.collisionCount ?? 0) + 1 };
  await ctx.client.update(deployments, { ...d, status }, { namespace, subresource: 'status' });
  return done();
}

/** The Deployment controller: keys are Deployments' `namespace/name`; ReplicaSets and Pods map to
 *  the Deployment that controls them. */
export const deploymentController: ControllerDef = {
  name: 'deployment',
  watches: [
    { rt: deployments },
    { rt: replicasets, keyOf: deploymentKeyOfReplicaSet },
    { rt: pods, keyOf: deploymentKeyOfPod },
  ],
  reconcile,
};

// The EndpointSlice controller of kube-controller-manager (pkg/controller/endpointslice, 1.32):
// every Service with a selector gets EndpointSlices (labelled kubernetes.io/service-name, owned by
// the Service so the garbage collector removes them with it) holding one endpoint per selected pod
// with an address — ready, serving and terminating as the pod is — grouped by the ports resolved
// on each pod, at most maxEndpointsPerSlice per slice, reusing existing slices so that a change
// touches as few as possible. endpointslice-plan.ts decides; this file reads the caches and writes.
import type { Node, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import type { KubeObject, OwnerReference } from '../api/types.js';
import { NAMESPACE_INDEX, splitCacheKey, type Indexer } from '../client/cache.js';
import type { Client } from '../client/client.js';
import type { Informer } from '../client/informer.js';
import { done, requeueAfter, type ControllerDef, type Result } from './controller.js';
import { HEADLESS_LABEL, formatTriggerTime, isServiceIPSet, serviceSelector, TRIGGER_TIME_ANNOTATION, TriggerTimeTracker } from './endpoints-plan.js';
import { selectedPods, servicesSelecting, SERVICES } from './endpoints.js';
import {
  DEFAULT_MAX_ENDPOINTS_PER_SLICE,
  desiredGroupsForPods,
  ENDPOINTSLICE_CONTROLLER,
  MANAGED_BY_LABEL,
  planSlices,
  SERVICE_NAME_LABEL,
  ZONE_LABEL,
  type SlicePlan,
} from './endpointslice-plan.js';
import { isNamespaceTerminating, PODS } from './pod-control.js';

export const ENDPOINTSLICES = resourceFor('discovery.k8s.io', 'v1', 'endpointslices');
export const NODES = resourceFor('', 'v1', 'nodes');

/** The service key (`namespace/name`) of a slice managed by `controller`, else undefined. */
export function sliceServiceKey(slice: KubeObject, controller: string): string | undefined {
  const l = slice.metadata.labels ?? {};
  const svc = l[SERVICE_NAME_LABEL];
  return l[MANAGED_BY_LABEL] === controller && svc ? `${slice.metadata.namespace ?? ''}/${svc}` : undefined;
}

/** The live slices of a service managed by `controller` from the slice cache (being-deleted ones
 *  included; callers drop them). */
export function slicesOf(cache: Indexer, namespace: string, service: string, controller: string): EndpointSlice[] {
  return cache
    .byIndex(NAMESPACE_INDEX, namespace)
    .filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === service && s.metadata.labels?.[MANAGED_BY_LABEL] === controller)
    .map((s) => s as unknown as EndpointSlice);
}

/**
 * The endpointSliceTracker's job: knowing when the slice cache is older than this controller's own
 * last writes for a service, so a reconcile never plans on a cache that lacks a slice it just
 * created (which would create it twice) or still has one it just deleted. Per service key: the
 * highest resourceVersion written, and the uids deleted and not yet gone from the cache.
 */
export class SliceWriteTracker {
  private written = new Map<string, { rv: bigint; deleted: Set<string> }>();

  private entry(key: string) {
    let e = this.written.get(key);
    if (!e) this.written.set(key, (e = { rv: 0n, deleted: new Set() }));
    return e;
  }

  /** Records a created or updated slice (the server's answer). */
  wrote(key: string, slice: KubeObject): void {
    const e = this.entry(key);
    const rv = toRv(slice.metadata.resourceVersion);
    if (rv > e.rv) e.rv = rv;
  }

  /** Records a deleted slice. */
  deleted(key: string, uid: string | undefined): void {
    if (uid) this.entry(key).deleted.add(uid);
  }

  /** Whether the informer has not yet seen every write recorded for the key; forgets what it has. */
  stale(key: string, inf: Informer, live: EndpointSlice[]): boolean {
    const e = this.written.get(key);
    if (!e) return false;
    if (toRv(inf.lastSyncResourceVersion()) < e.rv) return true;
    const uids = new Set(live.map((s) => s.metadata?.uid));
    for (const uid of e.deleted) if (!uids.has(uid)) e.deleted.delete(uid);
    if (e.deleted.size) return true;
    this.written.delete(key);
    return false;
  }

  /** Forgets a service (deleted). */
  forget(key: string): void {
    this.written.delete(key);
  }
}

function toRv(rv: string | undefined): bigint {
  try {
    return BigInt(rv ?? '0');
  } catch {
    return 0n;
  }
}

/** The labels every slice of the service carries: the service's own (minus the reserved ones),
 *  the headless label for headless services, service-name and managed-by (setEndpointSliceLabels). */
export function sliceLabels(svc: Service, controller: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(svc.metadata?.labels ?? {})) if (k !== SERVICE_NAME_LABEL && k !== MANAGED_BY_LABEL && k !== HEADLESS_LABEL) out[k] = v;
  if (!isServiceIPSet(svc)) out[HEADLESS_LABEL] = '';
  out[SERVICE_NAME_LABEL] = svc.metadata?.name ?? '';
  out[MANAGED_BY_LABEL] = controller;
  return out;
}

/** metav1.NewControllerRef for an owner of kind `kind` in core v1. */
export function ownerRefTo(owner: { metadata?: { name?: string; uid?: string } }, kind: string): OwnerReference {
  return { apiVersion: 'v1', kind, name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/**
 * Writes a slice plan as upstream's finalize does: creates, then updates, then deletes, each group
 * in parallel, recording every write in the tracker. Every write is attempted; the first failure
 * is rethrown afterwards (a retry with backoff). A conflict is not a failure: the newer slice's
 * event brings the service back. Creates refused by a terminating namespace are dropped.
 */
export async function applySlicePlan(client: Client, key: string, plan: SlicePlan, tracker: SliceWriteTracker): Promise<void> {
  let first: unknown;
  const settle = async (ops: Promise<void>[]) => {
    for (const r of await Promise.allSettled(ops)) if (r.status === 'rejected' && first === undefined) first = r.reason;
  };
  const obj = (s: EndpointSlice) => s as unknown as KubeObject;
  await settle(
    plan.create.map(async (s) => {
      try {
        tracker.wrote(key, await client.create(ENDPOINTSLICES, obj(s)));
      } catch (e) {
        if (!isNamespaceTerminating(e)) throw e;
      }
    }),
  );
  await settle(
    plan.update.map(async (s) => {
      try {
        tracker.wrote(key, await client.update(ENDPOINTSLICES, obj(s)));
      } catch (e) {
        if (!isStatusError(e, 'Conflict')) throw e;
      }
    }),
  );
  await settle(
    plan.delete.map(async (s) => {
      try {
        await client.delete(ENDPOINTSLICES, s.metadata?.name ?? '', { namespace: s.metadata?.namespace, preconditions: { uid: s.metadata?.uid } });
        tracker.deleted(key, s.metadata?.uid);
      } catch (e) {
        if (!isStatusError(e, 'NotFound') && !isStatusError(e, 'Conflict')) throw e;
      }
    }),
  );
  if (first !== undefined) throw first;
}

export interface EndpointSliceControllerOptions {
  /** --max-endpoints-per-slice (default 100). */
  maxEndpointsPerSlice?: number;
}

/** How long to wait before looking again at a service whose slice cache lags this controller's own
 *  writes; the writes' own watch events normally bring it back sooner. */
const STALE_RETRY_MS = 1000;

/**
 * A new EndpointSlice controller definition, for startController. Watches Services (own key), Pods
 * (the services selecting them), its own EndpointSlices (their service) and Nodes (zones only, no
 * keys). Holds per-service trackers: start each definition once.
 */
export function createEndpointSliceController(opts: EndpointSliceControllerOptions = {}): ControllerDef {
  const max = opts.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE;
  const triggers = new TriggerTimeTracker();
  const writes = new SliceWriteTracker();
  let svcCache: Indexer | undefined;
  return {
    name: 'endpointslice',
    watches: [
      { rt: SERVICES },
      { rt: PODS, keyOf: (p) => servicesSelecting(svcCache, p) },
      { rt: ENDPOINTSLICES, keyOf: (s) => sliceServiceKey(s, ENDPOINTSLICE_CONTROLLER) },
      { rt: NODES, keyOf: () => undefined },
    ],
    async reconcile(key, ctx): Promise<Result> {
      svcCache = ctx.informer(SERVICES).cache;
      const cached = svcCache.get(key);
      if (!cached) {
        // The slices are owned by the Service: the garbage collector removes them.
        triggers.delete(key);
        writes.forget(key);
        return done();
      }
      const svc = cached as unknown as Service;
      if (svc.spec?.type === 'ExternalName' || !serviceSelector(svc)) return done();
      const { namespace = '', name } = splitCacheKey(key);
      const sliceInf = ctx.informer(ENDPOINTSLICES);
      const all = slicesOf(sliceInf.cache, namespace, name, ENDPOINTSLICE_CONTROLLER);
      if (writes.stale(key, sliceInf, all)) return requeueAfter(STALE_RETRY_MS);
      const live = all.filter((s) => !s.metadata?.deletionTimestamp);

      const pods: Pod[] = selectedPods(ctx.informer(PODS).cache, svc);
      const nodes = ctx.informer(NODES).cache;
      const zoneOf = (n: string) => (nodes.get(n) as unknown as Node | undefined)?.metadata?.labels?.[ZONE_LABEL];
      const trigger = triggers.compute(key, svc, pods);
      const plan = planSlices(
        live,
        desiredGroupsForPods(svc, pods, zoneOf),
        {
          namespace,
          generateName: `${name}-`,
          labels: sliceLabels(svc, ENDPOINTSLICE_CONTROLLER),
          ownerReference: ownerRefTo(svc, 'Service'),
          addressType: 'IPv4',
          annotations: { [TRIGGER_TIME_ANNOTATION]: trigger !== undefined ? formatTriggerTime(trigger) : null },
        },
        { maxEndpointsPerSlice: max, placeholder: true },
      );
      await applySlicePlan(ctx.client, key, plan, writes);
      return done();
    },
  };
}

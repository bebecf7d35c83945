// The Endpoints controller of kube-controller-manager (pkg/controller/endpoint, 1.32): every
// Service with a selector gets an Endpoints object of its name listing the pods it selects —
// ready ones as addresses, the rest as notReadyAddresses — with each service port resolved on each
// pod. Services without a selector (and ExternalName ones) are left to their users; a deleted
// Service's Endpoints are deleted. The decisions are endpoints-plan.ts's; this file reads the
// caches and writes.
import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import { matches, selectorFromSet } from '../api/selectors.js';
import type { KubeObject } from '../api/types.js';
import { NAMESPACE_INDEX, objectCacheKey, splitCacheKey, type Indexer } from '../client/cache.js';
import { done, type ControllerContext, type ControllerDef, type Result } from './controller.js';
import { isNamespaceTerminating, PODS } from './pod-control.js';
import { canonical, formatTriggerTime, OVER_CAPACITY_ANNOTATION, planEndpoints, serviceSelector, TRIGGER_TIME_ANNOTATION, TriggerTimeTracker } from './endpoints-plan.js';

export const SERVICES = resourceFor('', 'v1', 'services');
export const ENDPOINTS = resourceFor('', 'v1', 'endpoints');
/** Endpoints carrying this annotation are leader-election locks, never deleted as leftovers. */
const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';

const asSvc = (o: KubeObject) => o as unknown as Service;
const asPod = (o: KubeObject) => o as unknown as Pod;

/**
 * The services of the pod's namespace whose selector matches it (before or after a change, the
 * runner calls this for both versions of the pod), as `namespace/name` keys. Used by both the
 * Endpoints and the EndpointSlice controller; `services` is the Service informer's cache.
 */
export function servicesSelecting(services: Indexer | undefined, pod: KubeObject): string[] | undefined {
  if (!services) return undefined;
  const ns = pod.metadata.namespace ?? '';
  return services
    .byIndex(NAMESPACE_INDEX, ns)
    .filter((s) => {
      const sel = serviceSelector(asSvc(s));
      return sel !== undefined && matches(selectorFromSet(sel), pod.metadata.labels);
    })
    .map(objectCacheKey);
}

/** The pods of a namespace a service's selector picks, from the pod cache. */
export function selectedPods(pods: Indexer, svc: Service): Pod[] {
  const sel = serviceSelector(svc);
  if (!sel) return [];
  const s = selectorFromSet(sel);
  return pods
    .byIndex(NAMESPACE_INDEX, svc.metadata?.namespace ?? '')
    .filter((p) => matches(s, p.metadata.labels))
    .map(asPod);
}

/**
 * A new Endpoints controller definition, for startController. Watches Services (own key), Pods
 * (the services selecting them) and Endpoints (own key, so edits and leftovers are corrected).
 * Holds the trigger-time tracker: start each definition once.
 */
export function createEndpointsController(): ControllerDef {
  const st: State = { tracker: new TriggerTimeTracker(), seen: new Set() };
  let svcCache: Indexer | undefined;
  return {
    name: 'endpoint',
    watches: [{ rt: SERVICES }, { rt: PODS, keyOf: (p) => servicesSelecting(svcCache, p) }, { rt: ENDPOINTS }],
    async reconcile(key, ctx) {
      if (!svcCache) {
        // checkLeftoverEndpoints: Endpoints present at start whose Service is gone are leftovers.
        for (const k of ctx.informer(ENDPOINTS).cache.listKeys()) st.seen.add(k);
      }
      svcCache = ctx.informer(SERVICES).cache;
      return syncService(key, ctx, st);
    },
  };
}

interface State {
  tracker: TriggerTimeTracker;
  /** Keys whose Endpoints go when their Service is absent: services this controller has seen,
   *  and Endpoints that existed when it started. Endpoints created for a Service that does not
   *  exist yet (kubectl apply of a file listing them first) are left alone, as upstream, whose
   *  informer acts on Endpoints only at start and on their deletion. */
  seen: Set<string>;
}

async function syncService(key: string, ctx: ControllerContext, st: State): Promise<Result> {
  const { tracker } = st;
  const { namespace, name } = splitCacheKey(key);
  const cachedSvc = ctx.informer(SERVICES).cache.get(key);
  const currentObj = ctx.informer(ENDPOINTS).cache.get(key);
  const current = currentObj as unknown as Endpoints | undefined;
  if (!cachedSvc) {
    tracker.delete(key);
    const leftover = st.seen.delete(key);
    // Leftover Endpoints of a deleted Service go; a leader-election lock is not a leftover.
    if (leftover && current && !current.metadata?.annotations?.[LEADER_ANNOTATION]) {
      try {
        await ctx.client.delete(ENDPOINTS, name, { namespace, preconditions: { uid: current.metadata?.uid } });
      } catch (e) {
        if (!isStatusError(e, 'NotFound') && !isStatusError(e, 'Conflict')) throw e;
      }
    }
    return done();
  }
  st.seen.add(key);
  const svc = asSvc(cachedSvc);
  // ExternalName services get no endpoints (kubernetes#105986); selectorless ones are the user's.
  if (svc.spec?.type === 'ExternalName' || !serviceSelector(svc)) return done();

  const pods = selectedPods(ctx.informer(PODS).cache, svc);
  const triggerTime = tracker.compute(key, svc, pods);
  const plan = planEndpoints(svc, pods);

  const annotations = { ...(current?.metadata?.annotations ?? {}) };
  const capacityOk = plan.truncated ? annotations[OVER_CAPACITY_ANNOTATION] === 'truncated' : annotations[OVER_CAPACITY_ANNOTATION] === undefined;
  if (current && canonical(current.subsets ?? []) === canonical(plan.subsets) && canonical(current.metadata?.labels ?? {}) === canonical(plan.labels) && capacityOk) return done();

  if (triggerTime !== undefined) annotations[TRIGGER_TIME_ANNOTATION] = formatTriggerTime(triggerTime);
  else delete annotations[TRIGGER_TIME_ANNOTATION];
  if (plan.truncated) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
  else delete annotations[OVER_CAPACITY_ANNOTATION];

  const metadata: KubeObject['metadata'] = { ...(currentObj?.metadata ?? { name, namespace }), labels: plan.labels, annotations };
  if (Object.keys(annotations).length === 0) delete metadata.annotations;
  const obj = { apiVersion: 'v1', kind: 'Endpoints', metadata, subsets: plan.subsets } as KubeObject;
  try {
    if (current) await ctx.client.update(ENDPOINTS, obj);
    else await ctx.client.create(ENDPOINTS, obj);
  } catch (e) {
    // A namespace being emptied refuses creates: nothing to do there. A conflict (or a create
    // racing our own earlier one) means the server holds a newer copy than the cache; its watch
    // event is on its way and brings this key back.
    if (!current && isNamespaceTerminating(e)) return done();
    if (isStatusError(e, 'Conflict') || isStatusError(e, 'AlreadyExists')) return done();
    throw e;
  }
  return done();
}

// The EndpointSlice mirroring controller of kube-controller-manager
// (pkg/controller/endpointslicemirroring, 1.32): a Service without a selector has its Endpoints
// written by someone else (a user, an operator); this controller mirrors those Endpoints into
// EndpointSlices, so everything that reads slices (the proxy, DNS, `kubectl describe svc`) sees
// them. Slices are owned by the Endpoints object and labelled managed-by
// endpointslicemirroring-controller.k8s.io. Endpoints labelled
// endpointslice.kubernetes.io/skip-mirror=true are not mirrored (the API server writes the
// `kubernetes` Service's slice itself upstream), nor are those of Services with a selector.
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint } from 'kubernetes-types/discovery/v1.js';
import { splitCacheKey, type Indexer } from '../client/cache.js';
import { done, requeueAfter, type ControllerDef, type Result } from './controller.js';
import { serviceSelector } from './endpoints-plan.js';
import { ENDPOINTS, SERVICES } from './endpoints.js';
import { applySlicePlan, ENDPOINTSLICES, ownerRefTo, sliceServiceKey, slicesOf, SliceWriteTracker } from './endpointslice.js';
import { endpointIdentity, MANAGED_BY_LABEL, MIRRORING_CONTROLLER, planSlices, SERVICE_NAME_LABEL, slicePort, slicePortsKey, type DesiredGroup } from './endpointslice-plan.js';

/** LabelSkipMirror. */
export const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';
/** --mirroring-max-endpoints-per-subset's default: addresses beyond it in a subset are not mirrored. */
export const MAX_MIRRORED_PER_SUBSET = 1000;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const isIPv4 = (ip: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);

/**
 * The mirrored endpoints of an Endpoints object, grouped by port set (subsets with the same ports
 * merge; an address listed twice is mirrored once, ready winning). Ready addresses become
 * ready=true endpoints, notReadyAddresses ready=false; only IPv4 addresses, at most
 * MAX_MIRRORED_PER_SUBSET per subset.
 */
export function desiredGroupsForEndpoints(ep: Endpoints): DesiredGroup[] {
  const groups = new Map<string, { g: DesiredGroup; ids: Map<string, Endpoint> }>();
  for (const subset of ep.subsets ?? []) {
    const ports = (subset.ports ?? []).map(slicePort);
    const k = slicePortsKey(ports);
    let entry = groups.get(k);
    if (!entry) groups.set(k, (entry = { g: { ports, endpoints: [] }, ids: new Map() }));
    const addrs = [...(subset.addresses ?? []).map((a) => ({ a, ready: true })), ...(subset.notReadyAddresses ?? []).map((a) => ({ a, ready: false }))];
    for (const { a, ready } of addrs.slice(0, MAX_MIRRORED_PER_SUBSET)) {
      if (!isIPv4(a.ip)) continue;
      const out: Endpoint = { addresses: [a.ip], conditions: { ready } };
      if (a.targetRef) out.targetRef = a.targetRef;
      if (a.nodeName) out.nodeName = a.nodeName;
      if (a.hostname) out.hostname = a.hostname;
      const id = endpointIdentity(out);
      if (!entry.ids.has(id)) entry.ids.set(id, out);
      else if (ready) entry.ids.set(id, out);
    }
  }
  return [...groups.values()].map(({ g, ids }) => ({ ports: g.ports, endpoints: [...ids.values()] }));
}

/** Whether an Endpoints object is mirrored: its Service exists without a selector, and it is
 *  neither labelled skip-mirror nor a leader-election lock. */
export function shouldMirror(ep: Endpoints | undefined, svc: Service | undefined): boolean {
  if (!ep || !svc) return false;
  if (serviceSelector(svc)) return false;
  if (ep.metadata?.labels?.[SKIP_MIRROR_LABEL] === 'true') return false;
  return !ep.metadata?.annotations?.['control-plane.alpha.kubernetes.io/leader'];
}

/** A new mirroring controller definition, for startController. Watches Services, Endpoints (both
 *  by their own key) and its own EndpointSlices (their service). Start each definition once. */
export function createEndpointSliceMirroringController(): ControllerDef {
  const writes = new SliceWriteTracker();
  return {
    name: 'endpointslicemirroring',
    watches: [{ rt: SERVICES }, { rt: ENDPOINTS }, { rt: ENDPOINTSLICES, keyOf: (s) => sliceServiceKey(s, MIRRORING_CONTROLLER) }],
    async reconcile(key, ctx): Promise<Result> {
      const { namespace = '', name } = splitCacheKey(key);
      const sliceInf = ctx.informer(ENDPOINTSLICES);
      const all = slicesOf(sliceInf.cache, namespace, name, MIRRORING_CONTROLLER);
      if (writes.stale(key, sliceInf, all)) return requeueAfter(1000);
      const live = all.filter((s) => !s.metadata?.deletionTimestamp);
      const svc = (ctx.informer(SERVICES).cache as Indexer).get(key) as unknown as Service | undefined;
      const ep = ctx.informer(ENDPOINTS).cache.get(key) as unknown as Endpoints | undefined;
      if (!shouldMirror(ep, svc) || !ep) {
        // Nothing (more) to mirror: the mirrored slices go.
        if (live.length) await applySlicePlan(ctx.client, key, { create: [], update: [], delete: live }, writes);
        if (!ep && !svc) writes.forget(key);
        return done();
      }
      const labels: Record<string, string> = { ...(ep.metadata?.labels ?? {}), [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MIRRORING_CONTROLLER };
      const annotations: Record<string, string | null> = {};
      for (const [k, v] of Object.entries(ep.metadata?.annotations ?? {})) if (k !== LAST_APPLIED) annotations[k] = v;
      for (const s of live) for (const k of Object.keys(s.metadata?.annotations ?? {})) if (!(k in annotations)) annotations[k] = null;
      const plan = planSlices(
        live,
        desiredGroupsForEndpoints(ep),
        { namespace, generateName: `${name}-`, labels, ownerReference: ownerRefTo(ep, 'Endpoints'), addressType: 'IPv4', annotations, annotationsMatter: true },
        { maxEndpointsPerSlice: MAX_MIRRORED_PER_SUBSET, placeholder: false },
      );
      await applySlicePlan(ctx.client, key, plan, writes);
      return done();
    },
  };
}

// The pure half of the EndpointSlice controllers (staging/src/k8s.io/endpointslice, 1.32): a pod
// as a slice endpoint, the desired endpoints grouped by port set, and the reconciler's packing —
// which existing slices to keep, update, fill up or delete and which to create, at most
// maxEndpointsPerSlice endpoints each, changing as few slices as it can. The mirroring controller
// packs Endpoints subsets with the same function.
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { EndpointPort as CoreEndpointPort, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from '../api/types.js';
import { canonical, isPodReady, podEndpointPorts, podHostname, shouldPodBeInEndpoints, sortPorts } from './endpoints-plan.js';

/** discovery.LabelServiceName and discovery.LabelManagedBy. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** The managed-by values of the two controllers. */
export const ENDPOINTSLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
export const MIRRORING_CONTROLLER = 'endpointslicemirroring-controller.k8s.io';
/** The topology label a node's zone is read from. */
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
/** --max-endpoints-per-slice's default. */
export const DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100;

/** Endpoints that share one port set: they go into slices with exactly those ports. */
export interface DesiredGroup {
  ports: EndpointPort[];
  endpoints: Endpoint[];
}

/** A slice port from a resolved endpoint port: always named ("" for an unnamed port), as upstream. */
export function slicePort(p: CoreEndpointPort): EndpointPort {
  const out: EndpointPort = { name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' };
  if (p.appProtocol) out.appProtocol = p.appProtocol;
  return out;
}

const isIPv4 = (ip: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);

/**
 * podToEndpoint: the pod's IPv4 address; serving = PodReady, terminating = being deleted, ready =
 * serving and not terminating (or always, with publishNotReadyAddresses); the node, the zone
 * (`zoneOf` the node, when known), the pod reference and the hostname when the pod's subdomain is
 * the service. Undefined when the pod has no IPv4 address.
 */
export function podToEndpoint(pod: Pod, svc: Service, zoneOf: (node: string) => string | undefined = () => undefined): Endpoint | undefined {
  const ips = pod.status?.podIPs?.length ? pod.status.podIPs.map((p) => p.ip ?? '') : [pod.status?.podIP ?? ''];
  const addresses = ips.filter(isIPv4);
  if (addresses.length === 0) return undefined;
  const serving = isPodReady(pod);
  const terminating = Boolean(pod.metadata?.deletionTimestamp);
  const ready = svc.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const ep: Endpoint = {
    addresses,
    conditions: { ready, serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
  };
  const node = pod.spec?.nodeName;
  if (node) {
    ep.nodeName = node;
    const zone = zoneOf(node);
    if (zone) ep.zone = zone;
  }
  const h = podHostname(pod, svc);
  if (h) ep.hostname = h;
  return ep;
}

/** The key of a port set (order aside). */
export function slicePortsKey(ports: EndpointPort[]): string {
  return sortPorts(ports.map((p) => ({ ...p, port: p.port ?? 0 })))
    .map((p) => `${p.name ?? ''}/${p.port}/${p.protocol ?? 'TCP'}/${p.appProtocol ?? ''}`)
    .join(',');
}

/** hashEndpoint: what makes two endpoints "the same endpoint" (addresses, hostname, target). */
export function endpointIdentity(ep: Endpoint): string {
  return `${[...ep.addresses].sort().join(',')}|${ep.hostname ?? ''}|${ep.targetRef?.namespace ?? ''}/${ep.targetRef?.name ?? ''}`;
}

/**
 * The EndpointSlice controller's desired endpoints for a service over its selected pods: every
 * pod that belongs in endpoints, terminating ones included (they carry terminating=true), grouped
 * by the ports FindPort resolves on it. Endpoints are ordered by address then pod name.
 */
export function desiredGroupsForPods(svc: Service, pods: Pod[], zoneOf?: (node: string) => string | undefined): DesiredGroup[] {
  const groups = new Map<string, DesiredGroup>();
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ep = podToEndpoint(pod, svc, zoneOf);
    if (!ep) continue;
    const ports = podEndpointPorts(svc, pod).map(slicePort);
    const k = slicePortsKey(ports);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { ports, endpoints: [] }));
    g.endpoints.push(ep);
  }
  const order = (a: Endpoint, b: Endpoint) => cmp(a.addresses[0] ?? '', b.addresses[0] ?? '') || cmp(a.targetRef?.name ?? '', b.targetRef?.name ?? '');
  for (const g of groups.values()) g.endpoints.sort(order);
  return [...groups.values()];
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** What every slice of this service (and controller) looks like apart from ports and endpoints. */
export interface SliceTemplate {
  namespace: string;
  /** generateName of new slices: `<service>-`. */
  generateName: string;
  /** The full label set (service-name and managed-by included). */
  labels: Record<string, string>;
  ownerReference: OwnerReference;
  addressType: 'IPv4';
  /** Annotations to set (a string) or remove (null) on every slice written. */
  annotations?: Record<string, string | null>;
  /** Whether a slice whose annotations differ from `annotations` needs an update by itself
   *  (the mirroring controller's rule); otherwise they ride along with other changes. */
  annotationsMatter?: boolean;
}

export interface SlicePlanOptions {
  maxEndpointsPerSlice: number;
  /** Keep one empty slice when there would be none (the EndpointSlice controller's placeholder). */
  placeholder: boolean;
}

/** The writes that bring a service's slices to the desired state. Updated slices keep their
 *  metadata (name, resourceVersion) with new content; created ones have generateName. */
export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

function applyAnnotations(slice: EndpointSlice, t: SliceTemplate): void {
  if (!t.annotations) return;
  const a = { ...(slice.metadata?.annotations ?? {}) };
  for (const [k, v] of Object.entries(t.annotations)) {
    if (v === null) delete a[k];
    else a[k] = v;
  }
  slice.metadata = { ...slice.metadata };
  if (Object.keys(a).length) slice.metadata.annotations = a;
  else delete slice.metadata.annotations;
}

function annotationsDiffer(slice: EndpointSlice, t: SliceTemplate): boolean {
  const a = slice.metadata?.annotations ?? {};
  return Object.entries(t.annotations ?? {}).some(([k, v]) => (v === null ? k in a : a[k] !== v));
}

/** newEndpointSlice. */
export function newSlice(t: SliceTemplate, ports: EndpointPort[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { generateName: t.generateName, namespace: t.namespace, labels: { ...t.labels }, ownerReferences: [{ ...t.ownerReference }] },
    addressType: t.addressType,
    endpoints: [],
    ports,
  };
}

const ownedBy = (s: EndpointSlice, uid: string | undefined) => (s.metadata?.ownerReferences ?? []).some((r) => r.uid === uid);

/**
 * The reconciler (reconcileByAddressType → reconcileByPortMapping → finalize). `existing` are the
 * controller's live slices of this service (being-deleted ones left out). Slices of another owner
 * or address type are deleted. Per port set: endpoints still desired stay where they are (replaced
 * when changed), gone ones are dropped (a slice left empty is deleted); remaining endpoints fill
 * the changed slices (fullest first), then one unchanged slice that fits them all (the fullest
 * that does), then new slices. Finally creates take over the names of slices about to be deleted,
 * turning a delete plus a create into one update.
 */
export function planSlices(existing: EndpointSlice[], desired: DesiredGroup[], t: SliceTemplate, opts: SlicePlanOptions): SlicePlan {
  const max = Math.max(1, opts.maxEndpointsPerSlice);
  const toCreate: EndpointSlice[] = [];
  const toUpdate: EndpointSlice[] = [];
  let toDelete: EndpointSlice[] = [];
  const byKey = new Map<string, EndpointSlice[]>();
  for (const s of [...existing].sort((a, b) => cmp(a.metadata?.name ?? '', b.metadata?.name ?? ''))) {
    if (!ownedBy(s, t.ownerReference.uid) || s.addressType !== t.addressType) {
      toDelete.push(s);
      continue;
    }
    const k = slicePortsKey(s.ports ?? []);
    byKey.set(k, [...(byKey.get(k) ?? []), s]);
  }
  const desiredByKey = new Map(desired.map((g) => [slicePortsKey(g.ports), g]));
  const keys = [...new Set([...byKey.keys(), ...desiredByKey.keys()])];
  const labelsWanted = canonical(t.labels);

  for (const k of keys) {
    const group = desiredByKey.get(k);
    const want = new Map<string, Endpoint>();
    for (const ep of group?.endpoints ?? []) want.set(endpointIdentity(ep), ep);
    const changed: EndpointSlice[] = [];
    const unchanged: EndpointSlice[] = [];
    // 1. keep what is still desired where it is, drop the rest
    for (const s of byKey.get(k) ?? []) {
      let needsUpdate = canonical(s.metadata?.labels ?? {}) !== labelsWanted || (t.annotationsMatter === true && annotationsDiffer(s, t));
      const eps: Endpoint[] = [];
      for (const ep of s.endpoints ?? []) {
        const id = endpointIdentity(ep);
        const got = want.get(id);
        if (!got) {
          needsUpdate = true;
          continue;
        }
        if (canonical(got) !== canonical(ep)) needsUpdate = true;
        eps.push(got);
        want.delete(id);
      }
      if (eps.length === 0) toDelete.push(s);
      else if (needsUpdate) changed.push({ ...s, metadata: { ...s.metadata, labels: { ...t.labels } }, endpoints: eps });
      else unchanged.push(s);
    }
    const left = [...want.values()];
    // 2. fill the slices being written anyway, fullest first
    changed.sort((a, b) => (b.endpoints?.length ?? 0) - (a.endpoints?.length ?? 0));
    for (const s of changed) while (left.length && s.endpoints.length < max) s.endpoints.push(left.shift() as Endpoint);
    toUpdate.push(...changed);
    // 3. the rest into one unchanged slice that fits them all, or new slices
    while (left.length) {
      let fill: EndpointSlice | undefined;
      if (left.length < max && unchanged.length) {
        let best = max;
        for (const s of unchanged) {
          const diff = max - (left.length + (s.endpoints?.length ?? 0));
          if (diff >= 0 && diff < best) {
            best = diff;
            fill = s;
          }
        }
      }
      if (fill) {
        unchanged.splice(unchanged.indexOf(fill), 1);
        fill = { ...fill, endpoints: [...(fill.endpoints ?? [])] };
      } else fill = newSlice(t, group?.ports ?? []);
      while (left.length && fill.endpoints.length < max) fill.endpoints.push(left.shift() as Endpoint);
      (fill.metadata?.name ? toUpdate : toCreate).push(fill);
    }
  }

  // The placeholder: a service with no endpoints still has one (empty) slice.
  if (opts.placeholder && toDelete.length === existing.length && toCreate.length === 0) {
    const ph = newSlice(t, []);
    const samePlaceholder = (s: EndpointSlice) =>
      (s.endpoints ?? []).length === 0 && (s.ports ?? []).length === 0 && s.addressType === t.addressType && ownedBy(s, t.ownerReference.uid) && canonical(s.metadata?.labels ?? {}) === labelsWanted;
    if (toDelete.length === 1 && samePlaceholder(toDelete[0] as EndpointSlice)) toDelete = [];
    else toCreate.push(ph);
  }

  // finalize: a create reuses a slice that would be deleted (same owner and address type).
  for (let i = 0; i < toDelete.length && toCreate.length; ) {
    const old = toDelete[i] as EndpointSlice;
    if (old.addressType === t.addressType && ownedBy(old, t.ownerReference.uid)) {
      const fresh = toCreate.pop() as EndpointSlice;
      toUpdate.push({ ...old, metadata: { ...old.metadata, labels: { ...t.labels } }, ports: fresh.ports, endpoints: fresh.endpoints });
      toDelete.splice(i, 1);
    } else i++;
  }
  for (const s of [...toCreate, ...toUpdate]) applyAnnotations(s, t);
  return { create: toCreate, update: toUpdate, delete: toDelete };
}

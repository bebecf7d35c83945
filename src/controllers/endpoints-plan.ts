// The pure half of the Endpoints controller (pkg/controller/endpoint and pkg/controller/util/
// endpoint, 1.32): which pods back a Service, which port each service port means on each pod, and
// the Endpoints object (subsets, labels, the over-capacity annotation) they add up to. Shared with
// the EndpointSlice planner: readiness, FindPort, ShouldPodBeInEndpoints, hostnames and the
// last-change trigger time are the same rules in both controllers upstream.
import type { EndpointAddress, EndpointPort, EndpointSubset, Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';

/** The label headless Services' Endpoints and EndpointSlices carry (v1.IsHeadlessService). */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
/** v1.EndpointsLastChangeTriggerTime. */
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
/** v1.EndpointsOverCapacity: set to "truncated" when more than 1000 addresses were dropped. */
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';
/** The most addresses one Endpoints object carries (maxCapacity upstream). */
export const MAX_ENDPOINTS_ADDRESSES = 1000;

/** podutil.IsPodReady: the PodReady condition is True. */
export function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** ShouldPodBeInEndpoints: not terminal (Succeeded/Failed), has an IP, and — unless
 *  `includeTerminating` — not being deleted. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (!pod.status?.podIP && (pod.status?.podIPs ?? []).length === 0) return false;
  if (!includeTerminating && pod.metadata?.deletionTimestamp) return false;
  return true;
}

/** helper.IsServiceIPSet: a ClusterIP that is neither empty nor None (headless). */
export function isServiceIPSet(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return ip !== undefined && ip !== '' && ip !== 'None';
}

/** The Service's selector when it has one this controller acts on (nil and empty are the same
 *  after a round trip through storage upstream). */
export function serviceSelector(svc: Service): Record<string, string> | undefined {
  const sel = svc.spec?.selector;
  return sel && Object.keys(sel).length > 0 ? sel : undefined;
}

/**
 * podutil.FindPort: the pod's port for a service port. A numeric targetPort is taken as is (absent:
 * the service port, as defaulting does); a named one is the port of that name and the service
 * port's protocol among the containers (then the restartable init containers, i.e. sidecars).
 * Undefined when the pod has no such port.
 */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  const protocol = sp.protocol ?? 'TCP';
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  for (const c of containers) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

/** The endpoint ports a pod offers for a service: one per service port FindPort resolves on it,
 *  named and typed as the service port (getEndpointPorts / the Endpoints controller's loop). */
export function podEndpointPorts(svc: Service, pod: Pod): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const ep: EndpointPort = { port, protocol: sp.protocol ?? 'TCP' };
    if (sp.name) ep.name = sp.name;
    if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
    out.push(ep);
  }
  return out;
}

/** ShouldSetHostname: the pod's hostname when its subdomain is this service's name (same namespace). */
export function podHostname(pod: Pod, svc: Service): string | undefined {
  const h = pod.spec?.hostname;
  return h && pod.spec?.subdomain === svc.metadata?.name && pod.metadata?.namespace === svc.metadata?.namespace ? h : undefined;
}

/** The Endpoints object's address for a pod (podToEndpointAddressForService). */
export function podAddress(pod: Pod, svc: Service): EndpointAddress {
  const a: EndpointAddress = {
    ip: pod.status?.podIP ?? pod.status?.podIPs?.[0]?.ip ?? '',
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid },
  };
  if (pod.spec?.nodeName) a.nodeName = pod.spec.nodeName;
  const h = podHostname(pod, svc);
  if (h) a.hostname = h;
  return a;
}

const portKey = (p: EndpointPort) => `${p.name ?? ''}/${p.port}/${p.protocol ?? 'TCP'}/${p.appProtocol ?? ''}`;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const addrKey = (a: EndpointAddress) => `${a.ip}/${a.targetRef?.uid ?? ''}`;

/** Ports in a canonical order, and the key naming a port set (the same set, the same key). */
export function sortPorts<P extends EndpointPort>(ports: P[]): P[] {
  return [...ports].sort((a, b) => cmp(portKey(a), portKey(b)));
}
export function portSetKey(ports: EndpointPort[]): string {
  return sortPorts(ports).map(portKey).join(',');
}

/**
 * RepackSubsets: the fewest subsets saying the same thing. Each port maps to the addresses
 * offering it (not ready trumping ready for the same address and port); ports offered by exactly
 * the same addresses share one subset. Addresses without ports (headless, no ports) are kept.
 * Upstream orders by an object hash; here subsets go by port set and addresses by IP, then pod uid.
 */
export function repackSubsets(subsets: EndpointSubset[]): EndpointSubset[] {
  const addrs = new Map<string, EndpointAddress>();
  const byPort = new Map<string, { port?: EndpointPort; ready: Map<string, boolean> }>();
  const note = (a: EndpointAddress, port: EndpointPort | undefined, ready: boolean) => {
    const ak = addrKey(a);
    if (!addrs.has(ak)) addrs.set(ak, a);
    const pk = port ? portKey(port) : '';
    let e = byPort.get(pk);
    if (!e) byPort.set(pk, (e = { port, ready: new Map() }));
    if (e.ready.get(ak) !== false) e.ready.set(ak, ready);
  };
  for (const s of subsets) {
    for (const port of s.ports?.length ? s.ports : [undefined]) {
      for (const a of s.addresses ?? []) note(a, port, true);
      for (const a of s.notReadyAddresses ?? []) note(a, port, false);
    }
  }
  const groups = new Map<string, { ready: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, ready } of byPort.values()) {
    const k = [...ready.entries()].map(([a, r]) => `${a}=${r}`).sort().join(',');
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { ready, ports: [] }));
    if (port) g.ports.push(port);
  }
  const byAddr = (a: EndpointAddress, b: EndpointAddress) => cmp(a.ip, b.ip) || cmp(a.targetRef?.uid ?? '', b.targetRef?.uid ?? '');
  return [...groups.values()]
    .map((g) => {
      const s: EndpointSubset = {};
      const ready = [...g.ready.entries()].filter(([, r]) => r).map(([k]) => addrs.get(k) as EndpointAddress);
      const notReady = [...g.ready.entries()].filter(([, r]) => !r).map(([k]) => addrs.get(k) as EndpointAddress);
      if (ready.length) s.addresses = ready.sort(byAddr);
      if (notReady.length) s.notReadyAddresses = notReady.sort(byAddr);
      if (g.ports.length) s.ports = sortPorts(g.ports);
      return s;
    })
    .sort((a, b) => cmp(portSetKey(a.ports ?? []), portSetKey(b.ports ?? [])) || cmp(a.addresses?.[0]?.ip ?? a.notReadyAddresses?.[0]?.ip ?? '', b.addresses?.[0]?.ip ?? b.notReadyAddresses?.[0]?.ip ?? ''));
}

/** What the Endpoints of a Service should hold. */
export interface EndpointsPlan {
  subsets: EndpointSubset[];
  labels: Record<string, string>;
  /** True when addresses beyond MAX_ENDPOINTS_ADDRESSES were dropped. */
  truncated: boolean;
}

/**
 * The Endpoints controller's syncService over already-selected pods: every pod that belongs in
 * endpoints (terminating ones only with publishNotReadyAddresses), with each service port its
 * FindPort resolves, as a ready address (PodReady, or publishNotReadyAddresses) or a not-ready
 * one; a headless service without ports lists addresses without ports. Labels are the service's
 * plus the headless label for headless services.
 */
export function planEndpoints(svc: Service, pods: Pod[]): EndpointsPlan {
  const tolerateUnready = svc.spec?.publishNotReadyAddresses === true;
  const raw: EndpointSubset[] = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
    const addr = podAddress(pod, svc);
    const ready = tolerateUnready || isPodReady(pod);
    const add = (ports: EndpointPort[] | undefined) => raw.push(ready ? { addresses: [addr], ports } : { notReadyAddresses: [addr], ports });
    const svcPorts = svc.spec?.ports ?? [];
    if (svcPorts.length === 0) {
      if (svc.spec?.clusterIP === 'None') add(undefined);
      continue;
    }
    for (const p of podEndpointPorts(svc, pod)) add([p]);
  }
  const repacked = repackSubsets(raw);
  const { subsets, truncated } = truncateSubsets(repacked, MAX_ENDPOINTS_ADDRESSES);
  const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
  if (isServiceIPSet(svc)) delete labels[HEADLESS_LABEL];
  else labels[HEADLESS_LABEL] = '';
  return { subsets, labels, truncated };
}

const countAddrs = (ss: EndpointSubset[]) => ss.reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);

/** truncateEndpoints: keeps at most `max` addresses, ready ones first, taking from each subset in
 *  proportion to its size (the last subset absorbs rounding), as upstream. */
export function truncateSubsets(subsets: EndpointSubset[], max: number): { subsets: EndpointSubset[]; truncated: boolean } {
  const total = countAddrs(subsets);
  if (total <= max) return { subsets, truncated: false };
  const totalReady = subsets.reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
  const truncateReady = totalReady > max;
  const budget = truncateReady ? max : max - totalReady;
  const pool = truncateReady ? totalReady : total - totalReady;
  let left = budget;
  const out = subsets.map((s, i) => {
    const list = (truncateReady ? s.addresses : s.notReadyAddresses) ?? [];
    const keep = i === subsets.length - 1 ? left : Math.min(left, Math.ceil((list.length * budget) / pool));
    left -= Math.min(keep, list.length);
    const t: EndpointSubset = { ...s };
    if (truncateReady) {
      t.addresses = list.slice(0, keep);
      delete t.notReadyAddresses;
    } else t.notReadyAddresses = list.slice(0, keep);
    if (t.addresses?.length === 0) delete t.addresses;
    if (t.notReadyAddresses?.length === 0) delete t.notReadyAddresses;
    return t;
  });
  return { subsets: out.filter((s) => s.addresses || s.notReadyAddresses), truncated: true };
}

/** Canonical JSON (object keys sorted) for semantic comparisons of API objects' parts. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) =>
    val && typeof val === 'object' && !Array.isArray(val) ? Object.fromEntries(Object.entries(val as Record<string, unknown>).sort(([a], [b]) => cmp(a, b))) : val,
  );
}

/** RFC 3339 with nanosecond-style trimming (Go's time.RFC3339Nano), in UTC. */
export function formatTriggerTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.?0+Z$/, 'Z').replace(/\.Z$/, 'Z');
}

/**
 * TriggerTimeTracker: the time of the earliest change (a pod's Ready transition, the service's
 * creation) that the next write of a service's endpoints reflects, for the last-change-trigger-time
 * annotation. Undefined for a service seen for the first time, or when nothing changed. One tracker
 * per controller; calls for one service never overlap (the work queue).
 */
export class TriggerTimeTracker {
  private states = new Map<string, { pods: Map<string, number>; service: number }>();

  compute(key: string, svc: Service, pods: Pod[]): number | undefined {
    const prev = this.states.get(key);
    const next = { pods: new Map<string, number>(), service: Date.parse(svc.metadata?.creationTimestamp ?? '') || 0 };
    let min: number | undefined;
    for (const pod of pods) {
      const ready = (pod.status?.conditions ?? []).find((c) => c.type === 'Ready');
      const t = ready?.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
      if (!Number.isFinite(t)) continue;
      const name = pod.metadata?.name ?? '';
      next.pods.set(name, t);
      if (t > (prev?.pods.get(name) ?? -Infinity)) min = min === undefined ? t : Math.min(min, t);
    }
    if (next.service > (prev?.service ?? -Infinity)) min = min === undefined ? next.service : Math.min(min, next.service);
    this.states.set(key, next);
    return prev ? min : undefined;
  }

  /** Forgets a service (deleted). */
  delete(key: string): void {
    this.states.delete(key);
  }
}

// Which endpoints a service port forwards to, read off its EndpointSlices the way kube-proxy's
// endpointslice cache and topology.go do: slices are joined by the `kubernetes.io/service-name`
// label, a port is matched by name and protocol, duplicates (the same address in two slices during
// a move) count once, and the usable set is the ready endpoints, or when none is ready the ones
// still serving while terminating (graceful termination), cluster-wide or on this node only. Pure.
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** One backend of a service port. */
export interface Endpoint {
  ip: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  nodeName?: string;
}

/** Slices grouped by `<namespace>/<service name>`, IPv4 only (Skiff's pod network is IPv4). */
export function slicesByService(slices: readonly EndpointSlice[]): Map<string, EndpointSlice[]> {
  const out = new Map<string, EndpointSlice[]>();
  for (const s of slices) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc || s.addressType !== 'IPv4' || s.metadata?.deletionTimestamp) continue;
    const key = `${s.metadata?.namespace ?? 'default'}/${svc}`;
    const list = out.get(key);
    if (list) list.push(s);
    else out.set(key, [s]);
  }
  return out;
}

/** The endpoints of one service port across its slices, sorted by ip then port, each once. */
export function endpointsFor(port: ServicePort, slices: readonly EndpointSlice[]): Endpoint[] {
  const name = port.name ?? '';
  const proto = port.protocol ?? 'TCP';
  const seen = new Map<string, Endpoint>();
  for (const s of slices) {
    const p = (s.ports ?? []).find((x) => (x.name ?? '') === name && (x.protocol ?? 'TCP') === proto);
    if (!p || p.port === undefined || p.port === null) continue;
    for (const e of s.endpoints ?? []) {
      const ip = e.addresses?.[0];
      if (!ip) continue;
      // nil conditions mean "unknown", which Kubernetes treats as ready; serving defaults to ready
      const ready = e.conditions?.ready ?? true;
      const ep: Endpoint = {
        ip,
        port: p.port,
        ready,
        serving: e.conditions?.serving ?? ready,
        terminating: e.conditions?.terminating ?? false,
        ...(e.nodeName ? { nodeName: e.nodeName } : {}),
      };
      const key = `${ip}:${p.port}`;
      const prev = seen.get(key);
      // the same address in two slices (a move in progress): the more useful copy wins
      if (!prev || (!prev.ready && ep.ready)) seen.set(key, ep);
    }
  }
  return [...seen.values()].sort((a, b) => cmpIp(a.ip, b.ip) || a.port - b.port);
}

/** Ready endpoints, or, when none is ready, the serving-and-terminating ones (upstream's fallback). */
export function usable(eps: readonly Endpoint[]): Endpoint[] {
  const ready = eps.filter((e) => e.ready);
  if (ready.length > 0) return ready;
  return eps.filter((e) => e.serving && e.terminating);
}

/** The endpoints for cluster-wide and node-local policies of one service port. */
export function categorize(eps: readonly Endpoint[], nodeName: string): { cluster: Endpoint[]; local: Endpoint[] } {
  return { cluster: usable(eps), local: usable(eps.filter((e) => e.nodeName === nodeName)) };
}

/** `svc` is handled by the proxy: it has a ClusterIP (not headless, not ExternalName). */
export function hasClusterIP(svc: Service): boolean {
  const ip = svc.spec?.clusterIP;
  return svc.spec?.type !== 'ExternalName' && !!ip && ip !== 'None';
}

function cmpIp(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

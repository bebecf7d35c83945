// The cluster DNS's in-memory view of Services and EndpointSlices, kept by informer handlers and
// read by records.ts on every query. It stores only what DNS needs (names, addresses, ports,
// readiness, hostnames), keyed for the lookups a query makes: a Service by namespace/name, the
// slices of a Service (the `kubernetes.io/service-name` label), and an address back to what owns
// it (for PTR). Updates are O(size of the object); lookups are map reads.
import { isIPv4, isIPv6 } from 'node:net';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

/** The label tying an EndpointSlice to its Service (discovery.LabelServiceName). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface ServicePort {
  name: string;
  protocol: string;
  port: number;
}

export interface ServiceEntry {
  namespace: string;
  name: string;
  /** Service IPs (spec.clusterIPs, else spec.clusterIP); empty for headless and ExternalName. */
  ips: string[];
  headless: boolean;
  /** spec.externalName of an ExternalName Service, lowercased, without a trailing dot. */
  externalName?: string;
  publishNotReady: boolean;
  ports: ServicePort[];
}

export interface EndpointEntry {
  addresses: string[];
  hostname?: string;
  ready: boolean;
}

export interface SliceEntry {
  key: string;
  /** namespace/service-name, or undefined for a slice without the label. */
  service: string | undefined;
  ports: ServicePort[];
  endpoints: EndpointEntry[];
}

/** `ns/name` (the lowercase names Kubernetes enforces, so no case folding is needed here). */
export function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** `10-42-0-5` (IPv4) or the address with `:` as `-` (IPv6): CoreDNS's name for an endpoint with no hostname. */
export function dashedAddress(ip: string): string {
  return ip.replace(/[.:]/g, '-');
}

export function toServiceEntry(svc: Service): ServiceEntry {
  const spec = svc.spec ?? {};
  const ips = (spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : []).filter((ip) => isIPv4(ip) || isIPv6(ip));
  const type = spec.type ?? 'ClusterIP';
  const entry: ServiceEntry = {
    namespace: svc.metadata?.namespace ?? 'default',
    name: svc.metadata?.name ?? '',
    ips: type === 'ExternalName' ? [] : ips,
    headless: type !== 'ExternalName' && spec.clusterIP === 'None',
    publishNotReady: spec.publishNotReadyAddresses === true,
    ports: (spec.ports ?? []).map((p) => ({ name: (p.name ?? '').toLowerCase(), protocol: (p.protocol ?? 'TCP').toLowerCase(), port: p.port })),
  };
  if (type === 'ExternalName' && spec.externalName) entry.externalName = spec.externalName.toLowerCase().replace(/\.$/, '');
  return entry;
}

export function toSliceEntry(slice: EndpointSlice): SliceEntry {
  const ns = slice.metadata?.namespace ?? 'default';
  const svcName = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  const family = slice.addressType === 'IPv6' ? isIPv6 : slice.addressType === 'IPv4' ? isIPv4 : undefined;
  return {
    key: `${ns}/${slice.metadata?.name ?? ''}`,
    service: svcName ? serviceKey(ns, svcName) : undefined,
    // A slice port with no number means "all ports" and cannot be an SRV record.
    ports: (slice.ports ?? []).filter((p) => typeof p.port === 'number').map((p) => ({ name: (p.name ?? '').toLowerCase(), protocol: (p.protocol ?? 'TCP').toLowerCase(), port: p.port! })),
    // FQDN slices carry names, not addresses; they give no records.
    endpoints: family
      ? (slice.endpoints ?? []).map((e) => ({
          addresses: e.addresses.filter((a) => family(a)),
          ...(e.hostname ? { hostname: e.hostname.toLowerCase() } : {}),
          // A nil ready is "unknown", which consumers treat as ready (EndpointConditions docs).
          ready: e.conditions?.ready !== false,
        }))
      : [],
  };
}

/** Every Service and EndpointSlice the DNS answers from. Not thread-safe; one writer (the informers). */
export class ZoneIndex {
  private readonly services = new Map<string, ServiceEntry>();
  private readonly slices = new Map<string, SliceEntry>();
  private readonly slicesByService = new Map<string, Set<string>>();
  private readonly servicesPerNamespace = new Map<string, number>();
  /** Service IP → service key. */
  private readonly byServiceIp = new Map<string, string>();
  /** Endpoint address → keys of slices listing it. */
  private readonly byEndpointIp = new Map<string, Set<string>>();
  /** Seconds since the epoch of the last change: the SOA serial, as CoreDNS's. */
  serial = Math.floor(Date.now() / 1000);

  upsertService(svc: Service): void {
    const e = toServiceEntry(svc);
    const key = serviceKey(e.namespace, e.name);
    this.removeService(key);
    this.services.set(key, e);
    this.servicesPerNamespace.set(e.namespace, (this.servicesPerNamespace.get(e.namespace) ?? 0) + 1);
    for (const ip of e.ips) this.byServiceIp.set(ip, key);
    this.touch();
  }

  deleteService(svc: Service): void {
    this.removeService(serviceKey(svc.metadata?.namespace ?? 'default', svc.metadata?.name ?? ''));
    this.touch();
  }

  upsertSlice(slice: EndpointSlice): void {
    const e = toSliceEntry(slice);
    this.removeSlice(e.key);
    this.slices.set(e.key, e);
    if (e.service) {
      let set = this.slicesByService.get(e.service);
      if (!set) this.slicesByService.set(e.service, (set = new Set()));
      set.add(e.key);
    }
    for (const ep of e.endpoints) {
      for (const a of ep.addresses) {
        let set = this.byEndpointIp.get(a);
        if (!set) this.byEndpointIp.set(a, (set = new Set()));
        set.add(e.key);
      }
    }
    this.touch();
  }

  deleteSlice(slice: EndpointSlice): void {
    this.removeSlice(`${slice.metadata?.namespace ?? 'default'}/${slice.metadata?.name ?? ''}`);
    this.touch();
  }

  service(namespace: string, name: string): ServiceEntry | undefined {
    return this.services.get(serviceKey(namespace, name));
  }

  hasNamespace(namespace: string): boolean {
    return (this.servicesPerNamespace.get(namespace) ?? 0) > 0;
  }

  /** The slices of a Service, in no particular order. */
  slicesOf(svc: ServiceEntry): SliceEntry[] {
    const keys = this.slicesByService.get(serviceKey(svc.namespace, svc.name));
    if (!keys) return [];
    const out: SliceEntry[] = [];
    for (const k of keys) {
      const s = this.slices.get(k);
      if (s) out.push(s);
    }
    return out;
  }

  /** The Service whose IP this is. */
  serviceByIp(ip: string): ServiceEntry | undefined {
    const key = this.byServiceIp.get(ip);
    return key ? this.services.get(key) : undefined;
  }

  /** The slices listing this address as an endpoint. */
  slicesByIp(ip: string): SliceEntry[] {
    const keys = this.byEndpointIp.get(ip);
    return keys ? [...keys].flatMap((k) => this.slices.get(k) ?? []) : [];
  }

  get size(): { services: number; slices: number } {
    return { services: this.services.size, slices: this.slices.size };
  }

  private removeService(key: string): void {
    const old = this.services.get(key);
    if (!old) return;
    this.services.delete(key);
    const n = (this.servicesPerNamespace.get(old.namespace) ?? 1) - 1;
    if (n > 0) this.servicesPerNamespace.set(old.namespace, n);
    else this.servicesPerNamespace.delete(old.namespace);
    for (const ip of old.ips) if (this.byServiceIp.get(ip) === key) this.byServiceIp.delete(ip);
  }

  private removeSlice(key: string): void {
    const old = this.slices.get(key);
    if (!old) return;
    this.slices.delete(key);
    if (old.service) {
      const set = this.slicesByService.get(old.service);
      set?.delete(key);
      if (set?.size === 0) this.slicesByService.delete(old.service);
    }
    for (const ep of old.endpoints) {
      for (const a of ep.addresses) {
        const set = this.byEndpointIp.get(a);
        set?.delete(key);
        if (set?.size === 0) this.byEndpointIp.delete(a);
      }
    }
  }

  private touch(): void {
    // Never backwards, and strictly forwards, so secondaries could tell a change (RFC 1982 style).
    this.serial = Math.max(this.serial + 1, Math.floor(Date.now() / 1000)) >>> 0;
  }
}

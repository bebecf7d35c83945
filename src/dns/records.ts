// The cluster zone, answered as the Kubernetes DNS specification (kubernetes/dns
// docs/specification.md) and CoreDNS's kubernetes plugin answer it. Pure: a question in, the
// sections of the answer out, read from a ZoneIndex.
//
//   <svc>.<ns>.svc.<zone>                 A/AAAA: the ClusterIPs; headless: every ready endpoint
//   _<port>._<proto>.<svc>.<ns>.svc.<zone> SRV: named ports (headless: one per ready endpoint)
//   <hostname>.<svc>.<ns>.svc.<zone>      A: a ready endpoint by hostname, or by dashed address
//   <a-b-c-d>.<ns>.pod.<zone>             A: a.b.c.d ("pods insecure", as k3s and kubeadm set it)
//   <d>.<c>.<b>.<a>.in-addr.arpa          PTR: ClusterIPs and headless endpoints; other addresses
//                                          are not ours (CoreDNS's fallthrough) and are forwarded
//   ExternalName                          CNAME to spec.externalName, chased only inside the zone
//
// A name that does not exist answers NXDOMAIN, one that exists without the asked type NOERROR with
// no answers (NODATA); both carry the zone's SOA in the authority section. TTL 5 s, as CoreDNS.
// A headless Service with no ready endpoint is NXDOMAIN (the spec, as amended by kubernetes/dns#245).
import { isIPv4, isIPv6 } from 'node:net';
import type { Answer, RecordType, SoaAnswer, StringAnswer } from 'dns-packet';
import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { ZoneIndex, dashedAddress, type ServiceEntry } from './zone-index.js';

/** CoreDNS's default TTL for the records of the kubernetes plugin. */
export const DNS_TTL = 5;
/** Version of the DNS specification served at `dns-version.<zone>` TXT. */
const SPEC_VERSION = '1.1.0';
/** A CNAME chain inside the zone longer than this is answered as far as it got. */
const MAX_CHASE = 8;

export type Rcode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL';

/** A question's type: a record type, or ANY (answered with the name's addresses). */
export type QueryType = RecordType | 'ANY';

export interface DnsQuestion {
  /** Any case, with or without the trailing dot. */
  name: string;
  type: QueryType;
}

/** An authoritative answer. Records are fresh objects the caller may keep or change. */
export interface DnsResult {
  rcode: Rcode;
  answers: Answer[];
  authority: Answer[];
  additionals: Answer[];
}

export interface DnsIndex {
  readonly clusterDomain: string;
  upsertService(svc: Service): void;
  deleteService(svc: Service): void;
  upsertSlice(slice: EndpointSlice): void;
  deleteSlice(slice: EndpointSlice): void;
  /**
   * The answer for a question inside the cluster zone (or a reverse name the index knows), or
   * undefined when the name is not the cluster's to answer and belongs to the upstream resolvers.
   */
  resolve(q: DnsQuestion): DnsResult | undefined;
  /** True when `name` is the cluster domain or below it (any case, trailing dot or not). */
  inZone(name: string): boolean;
  /** Counts, for logs and benchmarks. */
  size(): { services: number; slices: number };
}

/** Creates an empty index for `clusterDomain` (default `cluster.local`). */
export function createDnsIndex(opts: { clusterDomain?: string } = {}): DnsIndex {
  const domain = normalize(opts.clusterDomain ?? 'cluster.local');
  const zone = new ZoneIndex();
  const suffix = `.${domain}`;

  const inZone = (lower: string) => lower === domain || lower.endsWith(suffix);

  function soa(): SoaAnswer {
    return {
      name: domain, type: 'SOA', class: 'IN', ttl: DNS_TTL,
      data: { mname: `ns.dns.${domain}`, rname: `hostmaster.${domain}`, serial: zone.serial, refresh: 7200, retry: 1800, expire: 86400, minimum: DNS_TTL },
    };
  }
  const nxdomain = (): DnsResult => ({ rcode: 'NXDOMAIN', answers: [], authority: [soa()], additionals: [] });
  const nodata = (): DnsResult => ({ rcode: 'NOERROR', answers: [], authority: [soa()], additionals: [] });
  const answer = (answers: Answer[], additionals: Answer[] = []): DnsResult =>
    answers.length ? { rcode: 'NOERROR', answers, authority: [], additionals } : nodata();

  /** A/AAAA records of `name` for the addresses of the asked family; other types: none. */
  function addressRecords(name: string, type: QueryType, ips: Iterable<string>): Answer[] {
    const out: Answer[] = [];
    for (const ip of ips) {
      if ((type === 'A' || type === 'ANY') && isIPv4(ip)) out.push({ name, type: 'A', class: 'IN', ttl: DNS_TTL, data: ip });
      else if ((type === 'AAAA' || type === 'ANY') && isIPv6(ip)) out.push({ name, type: 'AAAA', class: 'IN', ttl: DNS_TTL, data: ip });
    }
    return out;
  }

  const svcName = (s: ServiceEntry) => `${s.name}.${s.namespace}.svc.${domain}`;

  /** Ready endpoints of a Service (all of them when it publishes not-ready addresses), deduplicated by address. */
  function endpointsOf(s: ServiceEntry): { ip: string; host: string }[] {
    const seen = new Map<string, { ip: string; host: string }>();
    for (const slice of zone.slicesOf(s)) {
      for (const ep of slice.endpoints) {
        if (!ep.ready && !s.publishNotReady) continue;
        for (const ip of ep.addresses) if (!seen.has(ip)) seen.set(ip, { ip, host: ep.hostname ?? dashedAddress(ip) });
      }
    }
    return [...seen.values()];
  }

  /** SRV records of a Service for ports matching `port`/`proto` ('' matches any), plus the targets' addresses. */
  function srvRecords(owner: string, s: ServiceEntry, port: string, proto: string): { answers: Answer[]; extra: Answer[] } {
    const matches = (p: { name: string; protocol: string }) => (port === '' || p.name === port) && (proto === '' || p.protocol === proto);
    const targets: { target: string; port: number; ips: string[] }[] = [];
    if (s.headless) {
      const eps = endpointsOf(s);
      const ports = new Map<string, number>();
      for (const slice of zone.slicesOf(s)) for (const p of slice.ports) if (matches(p)) ports.set(`${p.name}/${p.protocol}/${p.port}`, p.port);
      for (const n of ports.values()) for (const ep of eps) targets.push({ target: `${ep.host}.${svcName(s)}`, port: n, ips: [ep.ip] });
    } else {
      for (const p of s.ports) if (matches(p)) targets.push({ target: svcName(s), port: p.port, ips: s.ips });
    }
    // CoreDNS shares a weight of 100 among the records of one priority.
    const weight = targets.length ? Math.floor(100 / targets.length) : 0;
    const answers: Answer[] = targets.map((t) => ({ name: owner, type: 'SRV', class: 'IN', ttl: DNS_TTL, data: { priority: 0, weight, port: t.port, target: t.target } }));
    const extra: Answer[] = [];
    const done = new Set<string>();
    for (const t of targets) {
      const k = `${t.target} ${t.ips.join(',')}`;
      if (done.has(k)) continue;
      done.add(k);
      extra.push(...addressRecords(t.target, 'A', t.ips), ...addressRecords(t.target, 'AAAA', t.ips));
    }
    return { answers, extra };
  }

  /** `<svc>.<ns>.svc.<zone>` */
  function serviceRecords(owner: string, type: QueryType, s: ServiceEntry, depth: number): DnsResult {
    if (s.externalName !== undefined) {
      const cname: Answer = { name: owner, type: 'CNAME', class: 'IN', ttl: DNS_TTL, data: s.externalName };
      if (type === 'CNAME' || !inZone(s.externalName) || depth >= MAX_CHASE) return answer([cname]);
      const next = resolveLower(s.externalName, s.externalName, type, depth + 1);
      return { ...next, answers: [cname, ...next.answers] };
    }
    if (type === 'SRV') {
      const { answers, extra } = srvRecords(owner, s, '', '');
      return answer(answers, extra);
    }
    if (!s.headless) return answer(addressRecords(owner, type, s.ips));
    const eps = endpointsOf(s);
    if (!eps.length) return nxdomain();
    return answer(addressRecords(owner, type, eps.map((e) => e.ip)));
  }

  /** Names below `.svc.<zone>`: labels are what precedes `svc`, leftmost first. */
  function svcZone(owner: string, type: QueryType, labels: string[], depth: number): DnsResult {
    const n = labels.length;
    if (n === 0) return nodata();
    const ns = labels[n - 1]!;
    if (n === 1) return zone.hasNamespace(ns) ? nodata() : nxdomain();
    const s = zone.service(ns, labels[n - 2]!);
    if (!s) return nxdomain();
    if (n === 2) return serviceRecords(owner, type, s, depth);
    const first = labels[n - 3]!;
    if (first.startsWith('_')) {
      // `_<proto>.<svc>…` is an empty non-terminal when a port of that protocol exists.
      const proto = first.slice(1);
      if (n === 3) return s.ports.some((p) => p.protocol === proto) ? nodata() : nxdomain();
      if (n !== 4 || !labels[0]!.startsWith('_')) return nxdomain();
      // `_<port>._<proto>.<svc>.<ns>.svc`: named ports only (an unnamed port has no SRV name).
      const port = labels[0]!.slice(1);
      if (!port) return nxdomain();
      const { answers, extra } = srvRecords(owner, s, port, proto);
      if (!answers.length) return nxdomain();
      return type === 'SRV' ? answer(answers, extra) : nodata();
    }
    if (n !== 3 || s.externalName !== undefined) return nxdomain();
    // `<hostname>.<svc>.<ns>.svc`: an endpoint, by hostname or dashed address. The spec defines
    // these for headless Services; CoreDNS answers them for every Service with endpoints, and so do we.
    const ips = endpointsOf(s).filter((e) => e.host === first || dashedAddress(e.ip) === first).map((e) => e.ip);
    if (!ips.length) return nxdomain();
    return answer(addressRecords(owner, type, ips));
  }

  /** Names below `.pod.<zone>`: `<a-b-c-d>.<ns>.pod`, answered from the name alone ("pods insecure"). */
  function podZone(owner: string, type: QueryType, labels: string[]): DnsResult {
    if (labels.length === 0) return nodata();
    if (labels.length === 1) return nodata(); // a namespace: an empty non-terminal
    if (labels.length !== 2) return nxdomain();
    const v4 = labels[0]!.replace(/-/g, '.');
    if (isIPv4(v4)) return answer(addressRecords(owner, type, [v4]));
    const v6 = labels[0]!.replace(/-/g, ':');
    if (isIPv6(v6)) return answer(addressRecords(owner, type, [v6]));
    return nxdomain();
  }

  /** Everything at or below the cluster domain. `lower` is the lowercased, dotless-ended owner. */
  function resolveLower(owner: string, lower: string, type: QueryType, depth: number): DnsResult {
    const rest = lower === domain ? '' : lower.slice(0, -suffix.length);
    const labels = rest === '' ? [] : rest.split('.');
    const n = labels.length;
    if (n === 0) {
      if (type === 'SOA') return answer([{ ...soa(), name: owner }]);
      if (type === 'NS') return answer([{ name: owner, type: 'NS', class: 'IN', ttl: DNS_TTL, data: `ns.dns.${domain}` }], dnsServerAddresses());
      return nodata();
    }
    const top = labels[n - 1]!;
    if (top === 'svc') return svcZone(owner, type, labels.slice(0, -1), depth);
    if (top === 'pod') return podZone(owner, type, labels.slice(0, -1));
    if (rest === 'dns-version') {
      return type === 'TXT' ? answer([{ name: owner, type: 'TXT', class: 'IN', ttl: DNS_TTL, data: SPEC_VERSION }]) : nodata();
    }
    if (rest === 'ns.dns') return answer(addressRecords(owner, type, dnsServerAddresses().map((a) => a.data)));
    if (rest === 'dns') return nodata();
    return nxdomain();
  }

  /** The addresses of `ns.dns.<zone>`: the kube-dns Service's ClusterIPs, when it exists. */
  function dnsServerAddresses(): StringAnswer[] {
    const s = zone.service('kube-system', 'kube-dns');
    return s ? (addressRecords(`ns.dns.${domain}`, 'ANY', s.ips) as StringAnswer[]) : [];
  }

  /** `<d>.<c>.<b>.<a>.in-addr.arpa` (or ip6.arpa nibbles) → the address, else undefined. */
  function reverseAddress(lower: string): string | undefined {
    if (lower.endsWith('.in-addr.arpa')) {
      const parts = lower.slice(0, -'.in-addr.arpa'.length).split('.');
      if (parts.length !== 4) return undefined;
      const ip = parts.reverse().join('.');
      return isIPv4(ip) ? ip : undefined;
    }
    if (lower.endsWith('.ip6.arpa')) {
      const nibbles = lower.slice(0, -'.ip6.arpa'.length).split('.');
      if (nibbles.length !== 32 || nibbles.some((x) => !/^[0-9a-f]$/.test(x))) return undefined;
      const hex = nibbles.reverse().join('');
      const ip = hex.match(/.{4}/g)!.join(':');
      return isIPv6(ip) ? ip : undefined;
    }
    return undefined;
  }

  /** Names a reverse address points at: a ClusterIP's Service, a headless endpoint's name. */
  function ptrTargets(ip: string): string[] {
    const out = new Set<string>();
    const v6 = isIPv6(ip);
    const same = (a: string) => (v6 ? isIPv6(a) && expand6(a) === expand6(ip) : a === ip);
    // A ClusterIP names its Service alone (CoreDNS's serviceRecordForIP looks no further).
    const bySvc = zone.serviceByIp(v6 ? compress6(ip) : ip) ?? zone.serviceByIp(ip);
    if (bySvc) return [svcName(bySvc)];
    for (const slice of zone.slicesByIp(v6 ? compress6(ip) : ip)) {
      if (!slice.service) continue;
      const [ns, name] = slice.service.split('/') as [string, string];
      const s = zone.service(ns, name);
      if (!s?.headless) continue;
      for (const ep of slice.endpoints) {
        if (!ep.ready && !s.publishNotReady) continue;
        for (const a of ep.addresses) if (same(a)) out.add(`${ep.hostname ?? dashedAddress(a)}.${svcName(s)}`);
      }
    }
    return [...out];
  }

  function resolve(q: DnsQuestion): DnsResult | undefined {
    const owner = q.name.replace(/\.$/, '');
    const lower = owner.toLowerCase();
    if (inZone(lower)) return resolveLower(owner, lower, q.type, 0);
    const ip = reverseAddress(lower);
    if (ip === undefined) return undefined;
    const targets = ptrTargets(ip);
    if (!targets.length) return undefined; // not a cluster address: the upstreams' to answer
    if (q.type !== 'PTR' && q.type !== 'ANY') return undefined;
    return answer(targets.map((t) => ({ name: owner, type: 'PTR', class: 'IN', ttl: DNS_TTL, data: t })));
  }

  return {
    clusterDomain: domain,
    upsertService: (s) => zone.upsertService(s),
    deleteService: (s) => zone.deleteService(s),
    upsertSlice: (s) => zone.upsertSlice(s),
    deleteSlice: (s) => zone.deleteSlice(s),
    resolve,
    inZone: (name) => inZone(normalize(name)),
    size: () => zone.size,
  };
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/^\.+|\.+$/g, '');
}

/** Eight full groups of four hex digits. */
function expand6(ip: string): string {
  const [head = '', tail = ''] = ip.toLowerCase().split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

/** The canonical (RFC 5952) spelling, as the API stores addresses. */
function compress6(ip: string): string {
  const groups = expand6(ip).split(':').map((g) => g.replace(/^0+(?=.)/, ''));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

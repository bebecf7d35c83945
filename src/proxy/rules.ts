// The service proxy's rules as data, computed by one pure function from Services and
// EndpointSlices, shaped after kube-proxy's nftables mode (pkg/proxy/nftables/proxier.go): a map
// `service-ips` (ClusterIP and LoadBalancer addresses . protocol . port → the service's chain), a
// map `service-nodeports` (protocol . port → its external chain) used for the node's addresses,
// one chain per service port that picks an endpoint with `numgen random mod N vmap`, one chain per
// endpoint that DNATs (marking hairpin traffic for masquerade), `external-…` chains for NodePort and
// LoadBalancer traffic (masqueraded unless externalTrafficPolicy is Local), `local-…` chains for
// node-local policies, dynamic sets for ClientIP session affinity, and `no-endpoint-*` maps that
// reject connections to services without endpoints. Output is deterministic (everything sorted),
// so two models can be diffed (nft.ts) and only what changed is sent to the kernel.
import { createHash } from 'node:crypto';
import type { Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { categorize, endpointsFor, hasClusterIP, slicesByService, type Endpoint } from './endpoints.js';

/** The mark bit of upstream's `mark-for-masquerade` (0x4000, as kube-proxy). */
export const MASQ_MARK = '0x00004000';
/** ClientIP affinity timeout when the Service gives none (Kubernetes' default: 3 hours). */
export const DEFAULT_AFFINITY_SECONDS = 10800;

/** A named set; `dynamic` ones are filled by the packet path (affinity) and never by the proxy. */
export interface SetDef {
  type: string;
  flags?: string;
  timeoutSeconds?: number;
  elements: string[];
}

/** A verdict map: key → verdict (`goto <chain>`, `drop`). */
export interface MapDef {
  type: string;
  elements: Record<string, string>;
}

/** A chain; base chains carry their hook line (`type nat hook output priority -100;`). */
export interface ChainDef {
  hook?: string;
  rules: string[];
}

/** Everything the table should hold. Keys are sorted in every record. */
export interface Model {
  sets: Record<string, SetDef>;
  maps: Record<string, MapDef>;
  chains: Record<string, ChainDef>;
}

export interface RulesInput {
  services: readonly Service[];
  slices: readonly EndpointSlice[];
  /** This node's name: endpoints with this nodeName are local. */
  nodeName: string;
  /** The node's addresses NodePorts answer on (empty: every local address but 127/8). */
  nodeIPs: readonly string[];
  /** This node's pod range (informational; node-local checks use endpoint nodeName). */
  podCidr?: string;
  /** Traffic from outside this range to a ClusterIP is masqueraded (upstream's local detector). */
  clusterCidr: string;
  /** The service CIDR: connections to unallocated ClusterIPs in it are dropped, as upstream. */
  serviceCidr?: string;
}

/** upstream's hashAndTruncate: 8 characters of the name's hash, so chain names stay unique. */
function hash8(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8).toUpperCase();
}

function protoOf(p: ServicePort): 'tcp' | 'udp' | undefined {
  const proto = p.protocol ?? 'TCP';
  return proto === 'TCP' ? 'tcp' : proto === 'UDP' ? 'udp' : undefined;
}

function sorted<T>(rec: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(rec).sort()) out[k] = rec[k]!;
  return out;
}

/** The static part: base chains hooked into netfilter, masquerading, reject and checks. */
function baseModel(input: RulesInput, m: Model): void {
  const c = m.chains;
  c['nat-prerouting'] = { hook: 'type nat hook prerouting priority dstnat;', rules: ['jump services'] };
  // the host's own connections; NodePorts on 127.0.0.1 and every other local address too
  c['nat-output'] = {
    hook: 'type nat hook output priority -100;',
    rules: ['jump services', 'fib daddr type local meta l4proto . th dport vmap @service-nodeports'],
  };
  c['nat-postrouting'] = { hook: 'type nat hook postrouting priority srcnat;', rules: ['jump masquerading'] };
  c['filter-input'] = { hook: 'type filter hook input priority -110;', rules: ['ct state new jump nodeport-endpoints-check', 'ct state new jump service-endpoints-check'] };
  c['filter-forward'] = { hook: 'type filter hook forward priority -110;', rules: ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check'] };
  c['filter-output'] = { hook: 'type filter hook output priority -110;', rules: ['ct state new jump service-endpoints-check'] };
  c['filter-output-post-dnat'] = { hook: 'type filter hook output priority -90;', rules: ['ct state new jump cluster-ips-check'] };
  c['mark-for-masquerade'] = { rules: [`meta mark set meta mark or ${MASQ_MARK}`] };
  c['masquerading'] = {
    rules: [`meta mark & ${MASQ_MARK} == 0 return`, `meta mark set meta mark xor ${MASQ_MARK}`, 'masquerade fully-random'],
  };
  c['reject-chain'] = { rules: ['reject'] };
  const nodePortMatch = input.nodeIPs.length > 0 ? 'ip daddr @nodeport-ips' : 'fib daddr type local ip daddr != 127.0.0.0/8';
  c['services'] = {
    rules: ['ip daddr . meta l4proto . th dport vmap @service-ips', `${nodePortMatch} meta l4proto . th dport vmap @service-nodeports`],
  };
  c['service-endpoints-check'] = { rules: ['ip daddr . meta l4proto . th dport vmap @no-endpoint-services'] };
  c['nodeport-endpoints-check'] = { rules: [`${nodePortMatch} meta l4proto . th dport vmap @no-endpoint-nodeports`] };
  c['cluster-ips-check'] = {
    rules: [
      'ip daddr @cluster-ips reject',
      ...(input.serviceCidr ? [`ip daddr ${input.serviceCidr} drop`] : []),
    ],
  };
  m.sets['cluster-ips'] = { type: 'ipv4_addr', elements: [] };
  m.sets['nodeport-ips'] = { type: 'ipv4_addr', elements: [...new Set(input.nodeIPs)].sort() };
  m.maps['service-ips'] = { type: 'ipv4_addr . inet_proto . inet_service : verdict', elements: {} };
  m.maps['service-nodeports'] = { type: 'inet_proto . inet_service : verdict', elements: {} };
  m.maps['no-endpoint-services'] = { type: 'ipv4_addr . inet_proto . inet_service : verdict', elements: {} };
  m.maps['no-endpoint-nodeports'] = { type: 'inet_proto . inet_service : verdict', elements: {} };
}

/** The chain that spreads connections over `eps` (affinity first), or drops when there are none. */
function policyChain(eps: Endpoint[], epChain: (e: Endpoint) => string, affinitySet: (e: Endpoint) => string | undefined, pre: string[]): ChainDef {
  const rules = [...pre];
  if (eps.length === 0) return { rules: [...rules, 'drop'] };
  for (const e of eps) {
    const set = affinitySet(e);
    if (set) rules.push(`ip saddr @${set} goto ${epChain(e)}`);
  }
  rules.push(`numgen random mod ${eps.length} vmap { ${eps.map((e, i) => `${i} : goto ${epChain(e)}`).join(', ')} }`);
  return { rules };
}

/** One service's share of the model: its chains, sets and map elements, each record sorted. */
export interface Fragment {
  clusterIP: string;
  sets: Record<string, SetDef>;
  chains: Record<string, ChainDef>;
  serviceIps: Record<string, string>;
  nodePorts: Record<string, string>;
  noEpServices: Record<string, string>;
  noEpNodePorts: Record<string, string>;
}

/**
 * Memo of fragments by service, for computeRules: a fragment is reused while the Service's and its
 * slices' resourceVersions are unchanged, so a change costs one service, not all of them. The
 * caller owns it and passes the same one each time (with the same node, CIDRs and node IPs).
 */
export type RulesCache = Map<string, { sig: string; frag: Fragment }>;

/** The rules of one service (pure); see computeRules. */
export function serviceFragment(svc: Service, slices: readonly EndpointSlice[], input: Pick<RulesInput, 'nodeName' | 'clusterCidr'>): Fragment {
  const ns = svc.metadata?.namespace ?? 'default';
  const name = svc.metadata?.name ?? '';
  const spec = svc.spec!;
  const clusterIP = spec.clusterIP!;
  const f: Fragment = { clusterIP, sets: {}, chains: {}, serviceIps: {}, nodePorts: {}, noEpServices: {}, noEpNodePorts: {} };
  const { serviceIps, nodePorts, noEpServices, noEpNodePorts } = f;
  const ingressIps = spec.type === 'LoadBalancer' ? (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter(Boolean) : [];
  const externalIps = [...new Set([...ingressIps, ...(spec.externalIPs ?? [])])].sort();
  const affinity = spec.sessionAffinity === 'ClientIP';
  const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS;
  const itpLocal = spec.internalTrafficPolicy === 'Local';
  const etpLocal = spec.externalTrafficPolicy === 'Local' && (spec.type === 'NodePort' || spec.type === 'LoadBalancer');
  for (const port of spec.ports ?? []) {
    const proto = protoOf(port);
    if (!proto) continue;
    const portName = `${ns}/${name}/${proto}/${port.name || `p${port.port}`}`;
    const h = hash8(`${ns}/${name}:${port.name ?? ''}/${proto}`);
    const svcChain = `service-${h}-${portName}`;
    const localChain = `local-${h}-${portName}`;
    const extChain = `external-${h}-${portName}`;
    const suffix = (e: Endpoint) => `${portName}__${e.ip}/${e.port}`;
    const epChain = (e: Endpoint) => `endpoint-${hash8(`${h}/${e.ip}/${e.port}`)}-${suffix(e)}`;
    // the timeout is in the hash: a set's definition never changes in place, a new one replaces it
    const affSet = (e: Endpoint) => (affinity ? `affinity-${hash8(`${h}/${e.ip}/${e.port}/${timeout}`)}-${suffix(e)}` : undefined);
    const all = endpointsFor(port, slices);
    const { cluster, local } = categorize(all, input.nodeName);
    const internal = itpLocal ? local : cluster;
          const wantExternal = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    // the cluster-wide chain serves ClusterIP traffic unless internalTrafficPolicy is Local, and
    // always backs external traffic (directly, or for pods and the host under a Local policy)
    const usesCluster = !itpLocal || wantExternal || externalIps.length > 0;
    const usesLocal = itpLocal || etpLocal;
    const hasEndpoints = cluster.length > 0;
    const key = `${clusterIP} . ${proto} . ${port.port}`;
    // endpoint chains for every endpoint any policy uses
    const used = new Map<string, Endpoint>();
    for (const e of [...(usesCluster ? cluster : []), ...(usesLocal ? local : [])]) used.set(`${e.ip}:${e.port}`, e);
    for (const e of used.values()) {
      const set = affSet(e);
      if (set) f.sets[set] = { type: 'ipv4_addr', flags: 'dynamic,timeout', timeoutSeconds: timeout, elements: [] };
      f.chains[epChain(e)] = {
        rules: [
          // hairpin: a pod reaching itself through the service must see the reply come back via the node
          `ip saddr ${e.ip} jump mark-for-masquerade`,
          ...(set ? [`update @${set} { ip saddr }`] : []),
          `meta l4proto ${proto} dnat to ${e.ip}:${e.port}`,
        ],
      };
    }
    if (usesCluster && cluster.length > 0) {
      // ClusterIP traffic from outside the cluster (the host, another machine) is masqueraded so replies return here
      const masq = `ip daddr ${clusterIP} ${proto} dport ${port.port} ip saddr != ${input.clusterCidr} jump mark-for-masquerade`;
      f.chains[svcChain] = policyChain(cluster, epChain, affSet, [masq]);
    }
    if (usesLocal) f.chains[localChain] = policyChain(local, epChain, affSet, []);
    if (internal.length > 0) serviceIps[key] = `goto ${itpLocal ? localChain : svcChain}`;
    // upstream: no endpoints at all is rejected; endpoints, none of them local, is dropped
    else noEpServices[key] = hasEndpoints ? 'drop' : 'goto reject-chain';
    if (!wantExternal && externalIps.length === 0) continue;
    if (hasEndpoints) {
      f.chains[extChain] = etpLocal
        ? {
            rules: [
              // pods reaching a Local service's external address get the cluster-wide behaviour
              `ip saddr ${input.clusterCidr} goto ${svcChain}`,
              // and so does the host itself, masqueraded (its source address is not routable back)
              'fib saddr type local jump mark-for-masquerade',
              `fib saddr type local goto ${svcChain}`,
              `goto ${localChain}`,
            ],
          }
        : { rules: ['jump mark-for-masquerade', `goto ${svcChain}`] };
    }
    for (const ip of externalIps) {
      const k = `${ip} . ${proto} . ${port.port}`;
      if (hasEndpoints) serviceIps[k] = `goto ${extChain}`;
      else noEpServices[k] = 'goto reject-chain';
    }
    if (wantExternal && port.nodePort) {
      const k = `${proto} . ${port.nodePort}`;
      if (hasEndpoints) nodePorts[k] = `goto ${extChain}`;
      else noEpNodePorts[k] = 'goto reject-chain';
    }
  }
  return {
    clusterIP,
    sets: sorted(f.sets),
    chains: sorted(f.chains),
    serviceIps: sorted(serviceIps),
    nodePorts: sorted(nodePorts),
    noEpServices: sorted(noEpServices),
    noEpNodePorts: sorted(noEpNodePorts),
  };
}

/**
 * The whole rule model for one node. Pure and deterministic: the same input always gives an
 * identical model (base chains first, then services in namespace/name order, each fragment
 * sorted). Services without a ClusterIP (headless, ExternalName) and SCTP ports are skipped, as
 * kube-proxy does; IPv6 slices are ignored (Skiff's pod network is IPv4). With `cache`, unchanged
 * services' fragments (and their very ChainDef objects, which diffNft compares by identity
 * first) are reused.
 */
export function computeRules(input: RulesInput, cache?: RulesCache): Model {
  const m: Model = { sets: {}, maps: {}, chains: {} };
  baseModel(input, m);
  const bySvc = slicesByService(input.slices);
  const frags: [string, Fragment][] = [];
  const seen = new Set<string>();
  for (const svc of input.services) {
    if (!hasClusterIP(svc)) continue;
    const key = `${svc.metadata?.namespace ?? 'default'}/${svc.metadata?.name ?? ''}`;
    const slices = bySvc.get(key) ?? [];
    const rv = svc.metadata?.resourceVersion;
    const sig = rv && slices.every((x) => x.metadata?.resourceVersion) ? `${rv}|${slices.map((x) => `${x.metadata!.name}@${x.metadata!.resourceVersion}`).sort().join(',')}` : undefined;
    let frag: Fragment;
    const hit = cache?.get(key);
    if (sig && hit && hit.sig === sig) frag = hit.frag;
    else {
      frag = serviceFragment(svc, slices, input);
      if (cache && sig) cache.set(key, { sig, frag });
    }
    seen.add(key);
    frags.push([key, frag]);
  }
  if (cache) for (const k of cache.keys()) if (!seen.has(k)) cache.delete(k);
  frags.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const clusterIps = new Set<string>();
  const maps = m.maps;
  for (const [, f] of frags) {
    clusterIps.add(f.clusterIP);
    Object.assign(m.sets, f.sets);
    Object.assign(m.chains, f.chains);
    Object.assign(maps['service-ips']!.elements, f.serviceIps);
    Object.assign(maps['service-nodeports']!.elements, f.nodePorts);
    Object.assign(maps['no-endpoint-services']!.elements, f.noEpServices);
    Object.assign(maps['no-endpoint-nodeports']!.elements, f.noEpNodePorts);
  }
  m.sets['cluster-ips']!.elements = [...clusterIps].sort();
  return m;
}

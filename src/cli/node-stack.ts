// What runs on every real node besides the agent, wired here because the node agent, the proxy and
// the DNS server are peers that never import each other: once the agent's pod network is up, the
// node's cluster DNS server listens on the bridge address (port 53) and the node publishes itself
// as an endpoint of the `kube-system/kube-dns` Service (an EndpointSlice of its own, with its node
// name; the Service has internalTrafficPolicy Local, so each node's pods ask their own node), and
// the proxy turns Services into forwarding on this node. The `kube-dns` Service itself is made by
// the control plane (ensureKubeDnsService), at the tenth address of the service CIDR as k3s does.
import { readFileSync } from 'node:fs';
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import type { KubeObject } from '../api/types.js';
import type { Client } from '../client/client.js';
import { startClusterDns, type ClusterDns } from '../dns/cluster-dns.js';
import type { Upstream } from '../dns/forward.js';
import { hostUpstreams } from '../dns/upstreams.js';
import type { NodeAgent } from '../node/agent.js';
import { instanceId } from '../node/runtime/process.js';
import { startProxy } from '../proxy/proxier.js';
import { formatIpv4, parseIpv4Cidr } from '../util/ipv4-cidr.js';
import { logger } from '../util/log.js';

const log = logger('node-services');

const services = resourceFor('', 'v1', 'services');
const slices = resourceFor('discovery.k8s.io', 'v1', 'endpointslices');
export const DNS_NAMESPACE = 'kube-system';
export const DNS_SERVICE = 'kube-dns';
/** Who manages the per-node kube-dns slices (the endpointslice controller leaves them alone). */
export const DNS_SLICE_MANAGER = 'skiff-node-dns';

/** The cluster DNS address: the tenth address of the service CIDR (10.43.0.10 by default). */
export function clusterDnsIP(serviceCidr: string): string {
  const c = parseIpv4Cidr(serviceCidr);
  if (!c) throw new Error(`invalid service CIDR ${serviceCidr}`);
  return formatIpv4(c.base + 10);
}

/** Creates `kube-system/kube-dns` if it is missing (selectorless: nodes publish their own endpoints). */
export async function ensureKubeDnsService(client: Client, serviceCidr: string): Promise<void> {
  const ip = clusterDnsIP(serviceCidr);
  try {
    await client.get(services, DNS_SERVICE, { namespace: DNS_NAMESPACE });
    return;
  } catch (e) {
    if (!isStatusError(e, 'NotFound')) throw e;
  }
  try {
    await client.create(services, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: DNS_SERVICE, namespace: DNS_NAMESPACE, labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'SkiffDNS' } },
      spec: {
        clusterIP: ip,
        internalTrafficPolicy: 'Local',
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ],
      },
    });
  } catch (e) {
    if (!isStatusError(e, 'AlreadyExists')) throw e;
  }
}

/** `--dns-upstreams`: `none`, or `ADDR[:PORT],…`; undefined when unset (the host's resolvers). */
export function parseDnsUpstreams(text: string | undefined): Upstream[] | undefined {
  if (text === undefined) return undefined;
  if (text === 'none') return [];
  return text.split(',').filter(Boolean).map((part) => {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(part);
    if (!m) throw new Error(`cannot read DNS upstream ${JSON.stringify(part)}: use ADDR or ADDR:PORT, or none`);
    return { host: m[1]!, port: m[2] ? Number(m[2]) : 53 };
  });
}

/** This node's EndpointSlice for kube-dns: its DNS server's address. Created or replaced. */
export async function publishNodeDns(client: Client, nodeName: string, address: string): Promise<void> {
  const name = `${DNS_SERVICE}-${nodeName}`.slice(0, 253);
  const slice: KubeObject = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: DNS_NAMESPACE,
      labels: { 'kubernetes.io/service-name': DNS_SERVICE, 'endpointslice.kubernetes.io/managed-by': DNS_SLICE_MANAGER },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [address], conditions: { ready: true, serving: true, terminating: false }, nodeName }],
    ports: [
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' },
    ],
  };
  try {
    const cur = await client.get(slices, name, { namespace: DNS_NAMESPACE });
    await client.update(slices, { ...slice, metadata: { ...slice.metadata, resourceVersion: cur.metadata?.resourceVersion } });
  } catch (e) {
    if (!isStatusError(e, 'NotFound')) throw e;
    await client.create(slices, slice);
  }
}

/** Removes this node's kube-dns slice (the node stops serving DNS). */
export async function unpublishNodeDns(client: Client, nodeName: string): Promise<void> {
  try {
    await client.delete(slices, `${DNS_SERVICE}-${nodeName}`.slice(0, 253), { namespace: DNS_NAMESPACE });
  } catch (e) {
    if (!isStatusError(e, 'NotFound')) throw e;
  }
}

export interface NodeServicesOptions {
  client: Client;
  agent: NodeAgent;
  nodeName: string;
  nodeIP: string;
  /** The agent's state directory: its instance id names the proxy's nftables table. */
  stateDir: string;
  clusterCidr: string;
  serviceCidr: string;
  clusterDomain?: string;
  /** Resolvers for names outside the cluster; undefined = the host's resolv.conf, [] = none. */
  dnsUpstreams?: Upstream[];
}

export interface NodeServices {
  stop(): Promise<void>;
}

/** Starts the proxy at once, and the node's DNS (published as a kube-dns endpoint) once its pod network is up. */
export async function startNodeServices(o: NodeServicesOptions): Promise<NodeServices> {
  const proxy = await startProxy({ client: o.client, nodeName: o.nodeName, nodeIPs: [o.nodeIP], clusterCidr: o.clusterCidr, serviceCidr: o.serviceCidr, instance: instanceId(o.stateDir) });
  const st = proxy.status();
  if (st.mode !== 'nftables') log.warn('service proxy in userspace mode', { reason: st.reason });
  let dns: ClusterDns | undefined;
  let stopped = false;
  const dnsIP = clusterDnsIP(o.serviceCidr);
  const started = o.agent.network.then(async (net) => {
    if (stopped || !net.isolated) return; // host networking: pods use the host's resolver settings
    let hostConf = '';
    try {
      hostConf = readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      /* none */
    }
    dns = await startClusterDns({
      client: o.client,
      host: net.gateway,
      port: 53,
      clusterDomain: o.clusterDomain ?? 'cluster.local',
      upstreams: o.dnsUpstreams ?? hostUpstreams(hostConf, { skip: [dnsIP] }),
    });
    if (stopped) return;
    await publishNodeDns(o.client, o.nodeName, net.gateway);
  });
  started.catch((e) => log.error('node DNS did not start', { error: e instanceof Error ? e.message : String(e) }));
  return {
    async stop() {
      stopped = true;
      await Promise.race([started.catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
      await unpublishNodeDns(o.client, o.nodeName).catch(() => undefined);
      await dns?.stop();
      await proxy.stop();
    },
  };
}

// Command-line flags shared by `skiff up` and `skiff server` (DESIGN.md §1 is the contract).
import { homedir, hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseIpv4Cidr } from '../util/ipv4-cidr.js';
import { parseDnsUpstreams } from './node-stack.js';

export const SERVER_FLAGS = {
  'data-dir': { type: 'string' },
  port: { type: 'string' },
  'bind-address': { type: 'string' },
  datastore: { type: 'string' },
  'cluster-cidr': { type: 'string' },
  'service-cidr': { type: 'string' },
  'service-node-port-range': { type: 'string' },
  'lb-pool': { type: 'string' },
  'sim-nodes': { type: 'string' },
  'sim-node-capacity': { type: 'string' },
  'sim-unready-images': { type: 'string' },
  'no-local-node': { type: 'boolean' },
  'node-name': { type: 'string' },
  'node-ip': { type: 'string' },
  'dns-upstreams': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface ServerFlags {
  dataDir: string;
  port: number;
  bindAddress: string;
  datastore?: string;
  serviceCidr: string;
  clusterCidr: string;
  nodePortRange: [number, number];
  simNodes: number;
  /** Capacity of each simulated node: cpu, memory, pods, ephemeral-storage. */
  simNodeCapacity: Record<string, string>;
  /** Images whose containers never become ready on simulated nodes. */
  simUnreadyImages: string[];
  localNode: boolean;
  /** `--dns-upstreams` as given (`none`, or ADDR[:PORT],…); unset: the host's resolvers. */
  dnsUpstreams?: string;
  /** Addresses for LoadBalancer Services (unset: the nodes' own addresses, as k3s' ServiceLB). */
  lbPool?: string;
  /** The local node's name (default: this machine's hostname). */
  nodeName: string;
  /** The local node's InternalIP (default: the machine's first non-loopback IPv4). */
  nodeIP: string;
  logLevel?: string;
  help: boolean;
}

/** The machine's first non-internal IPv4 address, as the kubelet picks its node IP; else 127.0.0.1. */
export function defaultNodeIP(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export class UsageError extends Error {}

function int(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** `cpu=8,memory=32Gi,pods=110` → a resource list; unknown names are refused. */
export function parseCapacity(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? '').split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    if (!k || !v || !['cpu', 'memory', 'pods', 'ephemeral-storage'].includes(k)) {
      throw new UsageError(`cannot read capacity ${JSON.stringify(part)}: use cpu=8,memory=32Gi,pods=110,ephemeral-storage=100Gi`);
    }
    out[k] = v;
  }
  return out;
}

export function parseServerFlags(argv: string[]): ServerFlags {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: SERVER_FLAGS, allowPositionals: false, strict: true }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values['lb-pool'] !== undefined && !parseIpv4Cidr(values['lb-pool'])) throw new UsageError(`--lb-pool must be an IPv4 CIDR such as 127.200.0.0/24, got ${JSON.stringify(values['lb-pool'])}`);
  try {
    parseDnsUpstreams(values['dns-upstreams']);
  } catch (e) {
    throw new UsageError(`--dns-upstreams: ${(e as Error).message}`);
  }
  const range = values['service-node-port-range'] ?? '30000-32767';
  const m = /^(\d+)-(\d+)$/.exec(range);
  if (!m) throw new UsageError(`--service-node-port-range must look like 30000-32767, got ${JSON.stringify(range)}`);
  return {
    dataDir: values['data-dir'] ?? join(homedir(), '.skiff'),
    port: int('port', values.port, 6443),
    bindAddress: values['bind-address'] ?? '0.0.0.0',
    ...(values.datastore ? { datastore: values.datastore } : {}),
    serviceCidr: values['service-cidr'] ?? '10.43.0.0/16',
    clusterCidr: values['cluster-cidr'] ?? '10.42.0.0/16',
    nodePortRange: [Number(m[1]), Number(m[2])],
    simNodes: int('sim-nodes', values['sim-nodes'], 0),
    simNodeCapacity: parseCapacity(values['sim-node-capacity']),
    simUnreadyImages: (values['sim-unready-images'] ?? '').split(',').filter(Boolean),
    localNode: !values['no-local-node'],
    ...(values['lb-pool'] ? { lbPool: values['lb-pool'] } : {}),
    ...(values['dns-upstreams'] !== undefined ? { dnsUpstreams: values['dns-upstreams'] } : {}),
    nodeName: (values['node-name'] ?? hostname()).toLowerCase(),
    nodeIP: values['node-ip'] ?? defaultNodeIP(),
    ...(values['log-level'] ? { logLevel: values['log-level'] } : {}),
    help: values.help ?? false,
  };
}

// What a simulated node says about itself: the Node object a kubelet would register (labels,
// capacity, conditions, addresses, nodeInfo) and the Lease it renews in kube-node-lease. Pure:
// the pool decides when to write them.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../api/types.js';
import { formatIpv4 } from '../util/ipv4-cidr.js';

/** What a simulated node reports as capacity (and allocatable: nothing is reserved). */
export interface SimCapacity {
  cpu?: string;
  memory?: string;
  pods?: string;
  'ephemeral-storage'?: string;
}

export const SIM_DEFAULT_CAPACITY: Required<SimCapacity> = { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '1Ti' };

export const SIM_KUBELET_VERSION = 'v1.32.4-skiff-sim';
export const SIM_RUNTIME_VERSION = 'sim://0.1.0';
/** The annotation that marks a Node as driven by a SimNodePool (a real node never has it). */
export const SIMULATED_ANNOTATION = 'skiff.dev/simulated';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** The port a kubelet serves on; reported, never listened on by a simulated node. */
const KUBELET_PORT = 10250;

export interface SimNodeParams {
  name: string;
  capacity: Record<string, string>;
  /** Extra labels; they win over the defaults. */
  labels?: Record<string, string>;
  internalIP: string;
}

/** A hex digest of `text` (sha256), cut to `len` characters. */
export function simHash(text: string, len = 64): string {
  return createHash('sha256').update(text).digest('hex').slice(0, len);
}

/** A UUID-shaped string derived from `text`, stable across runs. */
function stableUuid(text: string): string {
  const h = simHash(text, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** The labels a kubelet puts on its Node, plus `type: sim` (kwok's `type: kwok`), then `extra`. */
export function simNodeLabels(name: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    type: 'sim',
    ...extra,
  };
}

/** The node conditions a healthy kubelet reports, with upstream's reasons and messages, in the
 *  kubelet's order. `transition` is kept from `previous` when a condition's status is unchanged. */
export function simNodeConditions(now: string, previous: { type?: string; status?: string; lastTransitionTime?: string }[] = []): Record<string, unknown>[] {
  const want: [string, string, string, string][] = [
    ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
    ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
    ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
    ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
  ];
  return want.map(([type, status, reason, message]) => {
    const prev = previous.find((c) => c.type === type);
    const lastTransitionTime = prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
    return { type, status, lastHeartbeatTime: now, lastTransitionTime, reason, message };
  });
}

/** The status a simulated kubelet posts: capacity = allocatable, conditions, addresses, nodeInfo. */
export function simNodeStatus(p: SimNodeParams, now: string, previousConditions?: { type?: string; status?: string; lastTransitionTime?: string }[]): Record<string, unknown> {
  const labels = simNodeLabels(p.name, p.labels);
  return {
    capacity: { ...p.capacity },
    allocatable: { ...p.capacity },
    conditions: simNodeConditions(now, previousConditions),
    addresses: [
      { type: 'InternalIP', address: p.internalIP },
      { type: 'Hostname', address: p.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: KUBELET_PORT } },
    nodeInfo: {
      machineID: simHash(`machine/${p.name}`, 32),
      systemUUID: stableUuid(`system/${p.name}`),
      bootID: stableUuid(`boot/${p.name}`),
      kernelVersion: '6.8.0-skiff-sim',
      osImage: 'Skiff simulated node',
      containerRuntimeVersion: SIM_RUNTIME_VERSION,
      kubeletVersion: SIM_KUBELET_VERSION,
      kubeProxyVersion: '',
      operatingSystem: labels['kubernetes.io/os'] ?? 'linux',
      architecture: labels['kubernetes.io/arch'] ?? 'amd64',
    },
  };
}

/** The Node a simulated kubelet registers (spec empty: node IPAM fills the pod CIDR). */
export function simNodeObject(p: SimNodeParams, now: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: p.name,
      labels: simNodeLabels(p.name, p.labels),
      annotations: { [SIMULATED_ANNOTATION]: 'true', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: {},
    status: simNodeStatus(p, now),
  };
}

/** metav1.MicroTime's wire form: RFC 3339 with six fractional digits (`2026-11-22T01:02:03.000000Z`). */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/** The node's Lease, owned by the Node so deleting the node lets the garbage collector take it. */
export function simLeaseObject(node: { name: string; uid?: string }, leaseDurationSeconds: number, renewTime: string): KubeObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: node.name,
      namespace: NODE_LEASE_NAMESPACE,
      ...(node.uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid }] } : {}),
    },
    spec: { holderIdentity: node.name, leaseDurationSeconds, renewTime },
  };
}

/** 10.200.0.0/16: made-up node addresses that nothing routes to (never contacted). */
const SIM_NODE_NET = 10 * 2 ** 24 + 200 * 2 ** 16;

/**
 * A stable made-up InternalIP for `name` in 10.200.0.0/16, avoiding the host numbers in `taken`
 * (which it extends). Derived from the name, so a restarted pool reports the same address.
 */
export function simInternalIP(name: string, taken: Set<number>): string {
  let host = (parseInt(simHash(`ip/${name}`, 8), 16) % 65534) + 1; // 1 … 65534: skip .0.0 and .255.255
  for (let i = 0; i < 65534 && taken.has(host); i++) host = (host % 65534) + 1;
  taken.add(host);
  return formatIpv4(SIM_NODE_NET + host);
}

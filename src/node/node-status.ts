// What a real node says about itself: capacity and allocatable read off the machine (cores,
// memory, disk under the agent's state directory), the conditions the kubelet reports (memory,
// disk and PID pressure from the machine's own figures, Ready), addresses and nodeInfo (kernel,
// OS image, runtime version). The agent decides when to write them.
import { readFileSync, statfsSync } from 'node:fs';
import { cpus, freemem, release, totalmem } from 'node:os';
import type { KubeObject } from '../api/types.js';

export const KUBELET_VERSION = 'v1.32.4-skiff';
/** The kubelet's default hard eviction threshold for memory: reserved out of allocatable. */
const EVICTION_MEMORY_BYTES = 100 * 1024 * 1024;
/** nodefs.available < 10% is the kubelet's DiskPressure threshold. */
const DISK_PRESSURE_FRACTION = 0.1;

export interface MachineFacts {
  cpu: number;
  memoryBytes: number;
  diskBytes: number;
  diskFreeBytes: number;
  memoryFreeBytes: number;
  pidMax: number;
  pids: number;
  kernelVersion: string;
  osImage: string;
  machineID: string;
  bootID: string;
  architecture: string;
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return fallback;
  }
}

function osImage(): string {
  const text = readOr('/etc/os-release', '');
  const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(text);
  return m?.[1] ?? `${process.platform}`;
}

function countPids(): number {
  try {
    const text = readFileSync('/proc/loadavg', 'utf8'); // "0.00 0.01 0.05 1/123 4567"
    const m = /\d+\/(\d+)/.exec(text);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Reads the machine: every call is fresh (free memory, disk and pid counts change). */
export function readMachine(stateDir: string): MachineFacts {
  let diskBytes = 0;
  let diskFreeBytes = 0;
  try {
    const s = statfsSync(stateDir);
    diskBytes = s.blocks * s.bsize;
    diskFreeBytes = s.bavail * s.bsize;
  } catch {
    /* unknown */
  }
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : process.arch;
  return {
    cpu: cpus().length,
    memoryBytes: totalmem(),
    memoryFreeBytes: readMemAvailable() ?? freemem(),
    diskBytes,
    diskFreeBytes,
    pidMax: Number(readOr('/proc/sys/kernel/pid_max', '32768')) || 32768,
    pids: countPids(),
    kernelVersion: release(),
    osImage: osImage(),
    machineID: readOr('/etc/machine-id', ''),
    bootID: readOr('/proc/sys/kernel/random/boot_id', ''),
    architecture: arch,
  };
}

function readMemAvailable(): number | undefined {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readOr('/proc/meminfo', ''));
  return m ? Number(m[1]) * 1024 : undefined;
}

const ki = (bytes: number) => `${Math.floor(bytes / 1024)}Ki`;

export function nodeCapacity(m: MachineFacts, maxPods: number): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const capacity = { cpu: String(m.cpu), memory: ki(m.memoryBytes), pods: String(maxPods), 'ephemeral-storage': ki(m.diskBytes) };
  const allocatable = {
    cpu: String(m.cpu),
    memory: ki(Math.max(0, m.memoryBytes - EVICTION_MEMORY_BYTES)),
    pods: String(maxPods),
    // the kubelet reports allocatable ephemeral storage minus the 10% eviction threshold, in bytes
    'ephemeral-storage': String(Math.floor(m.diskBytes * (1 - DISK_PRESSURE_FRACTION))),
  };
  return { capacity, allocatable };
}

type Cond = { type?: string; status?: string; lastTransitionTime?: string; lastHeartbeatTime?: string; reason?: string; message?: string };

/**
 * The kubelet's four conditions, from the machine's figures. `networkNote` (host networking as a
 * fallback) is said in the Ready message: the node works, but pods share its network.
 */
export function nodeConditions(m: MachineFacts, now: string, previous: Cond[] = [], networkNote?: string): Cond[] {
  const memPressure = m.memoryFreeBytes < EVICTION_MEMORY_BYTES;
  const diskPressure = m.diskBytes > 0 && m.diskFreeBytes / m.diskBytes < DISK_PRESSURE_FRACTION;
  const pidPressure = m.pids > m.pidMax * 0.9;
  const want: [string, boolean, string, string, string, string][] = [
    ['MemoryPressure', memPressure, 'KubeletHasInsufficientMemory', 'kubelet has insufficient memory available', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
    ['DiskPressure', diskPressure, 'KubeletHasDiskPressure', 'kubelet has disk pressure', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
    ['PIDPressure', pidPressure, 'KubeletHasInsufficientPID', 'kubelet has insufficient PID available', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
  ];
  const out: Cond[] = want.map(([type, on, rOn, mOn, rOff, mOff]) => cond(type, on ? 'True' : 'False', on ? rOn : rOff, on ? mOn : mOff, now, previous));
  const readyMsg = networkNote ? `kubelet is posting ready status; pods use the node's network: ${networkNote}` : 'kubelet is posting ready status';
  out.push(cond('Ready', 'True', 'KubeletReady', readyMsg, now, previous));
  return out;
}

function cond(type: string, status: string, reason: string, message: string, now: string, previous: Cond[]): Cond {
  const prev = previous.find((c) => c.type === type);
  const lastTransitionTime = prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : now;
  return { type, status, lastHeartbeatTime: now, lastTransitionTime, reason, message };
}

export interface NodeParams {
  name: string;
  internalIP: string;
  kubeletPort: number;
  runtimeVersion: string;
  maxPods: number;
  labels?: Record<string, string>;
  networkNote?: string;
}

export function nodeLabels(name: string, arch: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': arch,
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    ...extra,
  };
}

export function nodeStatus(p: NodeParams, m: MachineFacts, now: string, previous?: Cond[]): Record<string, unknown> {
  return {
    ...nodeCapacity(m, p.maxPods),
    conditions: nodeConditions(m, now, previous, p.networkNote),
    addresses: [
      { type: 'InternalIP', address: p.internalIP },
      { type: 'Hostname', address: p.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: p.kubeletPort } },
    nodeInfo: {
      machineID: m.machineID,
      systemUUID: m.machineID,
      bootID: m.bootID,
      kernelVersion: m.kernelVersion,
      osImage: m.osImage,
      containerRuntimeVersion: p.runtimeVersion,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: m.architecture,
    },
  };
}

export function nodeObject(p: NodeParams, m: MachineFacts, now: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: p.name,
      labels: nodeLabels(p.name, m.architecture, p.labels),
      annotations: { 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: {},
    status: nodeStatus(p, m, now),
  };
}

// NodePorts, as Kubernetes 1.32's pkg/scheduler/framework/plugins/nodeports: a pod asking for a
// host port fits only where no other pod holds the same protocol and port on an overlapping IP.
// 0.0.0.0 overlaps every IP: a wildcard request conflicts with the port on any IP, and a request
// for one IP conflicts with that IP and with the wildcard (HostPortInfo.CheckConflict).
import type { CycleContext, FilterResult, NodeInfo, Plugin } from '../framework.js';
import { BIND_ALL_HOST_IP } from '../node-info.js';

export const NODE_PORTS = 'NodePorts';
export const ERR_REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

/** Splits a `protocol/hostIP/port` key (an IPv6 host IP has no `/`, so the middle is the IP). */
function parts(key: string): [protocol: string, ip: string, port: string] {
  const first = key.indexOf('/');
  const last = key.lastIndexOf('/');
  return [key.slice(0, first), key.slice(first + 1, last), key.slice(last + 1)];
}

/** Whether the wanted port (`protocol/hostIP/port`) conflicts with one of `used`. */
export function hostPortConflicts(wanted: string, used: ReadonlySet<string>): boolean {
  if (used.size === 0) return false;
  const [protocol, ip, port] = parts(wanted);
  if (ip === BIND_ALL_HOST_IP) {
    for (const u of used) {
      const [p, , n] = parts(u);
      if (p === protocol && n === port) return true;
    }
    return false;
  }
  return used.has(wanted) || used.has(`${protocol}/${BIND_ALL_HOST_IP}/${port}`);
}

export const nodePorts: Plugin = {
  name: NODE_PORTS,

  preFilter(ctx: CycleContext): 'skip' | undefined {
    return ctx.pod.hostPorts.length === 0 ? 'skip' : undefined;
  },

  filter(ctx: CycleContext, ni: NodeInfo): FilterResult {
    for (const wanted of ctx.pod.hostPorts) {
      if (hostPortConflicts(wanted, ni.usedPorts)) return { reasons: [ERR_REASON_NODE_PORTS] };
    }
    return undefined;
  },
};

// The kubelet's admission of a pod bound to its node (lifecycle.PredicateAdmitHandler): a pod whose
// requests do not fit what the node's admitted pods leave of its allocatable is rejected — phase
// Failed, reason `OutOf<resource>`, message `Pod was rejected: Node didn't have enough resource: …`
// — as happens to pods that name a node directly (spec.nodeName) and so bypass the scheduler. The
// numbers are the scheduler's (api/pod-requests.ts). Pure.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { podRequestList, resourceListOf } from '../api/pod-requests.js';

export type Admission = { admit: true } | { admit: false; reason: string; message: string };

/** Whether `pod` fits beside `admitted` (the node's running, non-terminal pods) within `allocatable`. */
export function admitPod(pod: Pod, admitted: readonly Pod[], allocatable: Record<string, string>): Admission {
  const alloc = resourceListOf(allocatable);
  const maxPods = alloc.get('pods');
  if (maxPods !== undefined && admitted.length + 1 > maxPods) {
    return reject('pods', 1, admitted.length, maxPods);
  }
  const want = podRequestList(pod, false);
  const used = new Map<string, number>();
  for (const p of admitted) for (const [k, v] of podRequestList(p, false)) used.set(k, (used.get(k) ?? 0) + v);
  for (const [name, amount] of want) {
    if (amount === 0 || name === 'pods') continue;
    const cap = alloc.get(name);
    if (cap === undefined) {
      // an extended resource the node does not have at all
      if (name.includes('/')) return reject(name, amount, 0, 0);
      continue;
    }
    const u = used.get(name) ?? 0;
    if (u + amount > cap) return reject(name, amount, u, cap);
  }
  return { admit: true };
}

function reject(name: string, requested: number, used: number, capacity: number): Admission {
  const message = `Node didn't have enough resource: ${name}, requested: ${requested}, used: ${used}, capacity: ${capacity}`;
  return { admit: false, reason: `OutOf${name}`, message: `Pod was rejected: ${message}` };
}

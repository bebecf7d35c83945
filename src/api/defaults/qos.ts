// A pod's QoS class (pkg/apis/core/helper/qos.ComputePodQOS), which the pod strategy records
// in status.qosClass on create. Quantities are compared exactly.
import { addQuantities, compareQuantities, tryParseQuantity, type Quantity } from '../../util/quantity.js';
import type { KubeObject } from '../types.js';
import { eachObj, objAt } from './pod-spec.js';

const QOS_RESOURCES = ['cpu', 'memory'];

/** Guaranteed, Burstable or BestEffort, from the containers' and init containers' requests and limits. */
export function podQOSClass(pod: KubeObject): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  const add = (into: Map<string, Quantity>, list: unknown, found?: Set<string>) => {
    for (const [name, raw] of Object.entries((list ?? {}) as Record<string, unknown>)) {
      if (!QOS_RESOURCES.includes(name)) continue;
      const q = tryParseQuantity(String(raw));
      if (!q || q.mantissa <= 0n) continue;
      found?.add(name);
      const prev = into.get(name);
      into.set(name, prev ? addQuantities(prev, q) : q);
    }
  };
  const spec = objAt(pod, 'spec');
  for (const list of ['containers', 'initContainers']) {
    eachObj(spec?.[list], (c) => {
      const res = objAt(c, 'resources');
      add(requests, res?.requests);
      const found = new Set<string>();
      add(limits, res?.limits, found);
      if (!QOS_RESOURCES.every((r) => found.has(r))) guaranteed = false;
    });
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (!lim || compareQuantities(lim, req) !== 0) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

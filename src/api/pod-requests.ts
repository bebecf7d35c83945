// What a pod asks for, as Kubernetes' resourcehelper.PodRequests computes it: init containers run
// one at a time (their max counts), sidecars (`restartPolicy: Always` init containers) keep running
// (they add up), overhead comes on top. The scheduler fits pods with these numbers and the node
// agent admits them with the same ones.
import type { Container, PodSpec } from 'kubernetes-types/core/v1.js';
import { milliValue, tryParseQuantity } from '../util/quantity.js';

/** Upstream's schedutil.DefaultMilliCPURequest: what a container without a CPU request counts as when scoring. */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** Upstream's schedutil.DefaultMemoryRequest (200Mi). */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** Resource name → amount: millicores for cpu, the integer value for everything else. */
export type ResourceList = Map<string, number>;
type QuantityMap = Record<string, string | number> | undefined;

/** A quantity in the scheduler's unit for `name`: millicores for cpu, the integer value (rounded
 *  up, as Quantity.Value) for everything else. Unparsable text counts as 0 (validation refuses it
 *  before it gets here). */
function amount(name: string, text: string | number): number {
  // the same few quantities ("100m", "500Mi") come back for every pod: parse each text once
  const key = `${name === 'cpu' ? 'm' : 'v'}${text}`;
  let v = amounts.get(key);
  if (v === undefined) {
    const q = tryParseQuantity(String(text));
    const milli = q ? milliValue(q) : 0;
    v = name === 'cpu' ? milli : Math.ceil(milli / 1000);
    if (amounts.size > 10_000) amounts.clear();
    amounts.set(key, v);
  }
  return v;
}
const amounts = new Map<string, number>();

/** A resource list from the API in these units. */
export function resourceListOf(map: QuantityMap): ResourceList {
  const out: ResourceList = new Map();
  if (map) for (const [k, v] of Object.entries(map)) out.set(k, amount(k, v));
  return out;
}

function addList(into: ResourceList, from: ResourceList): void {
  for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
}

function maxList(into: ResourceList, from: ResourceList): void {
  for (const [k, v] of from) {
    const cur = into.get(k);
    if (cur === undefined || v > cur) into.set(k, v);
  }
}

/** A container's requests; with `defaults`, unset (not zero) cpu/memory take the scheduler's
 *  defaults, as upstream's NonMissingContainerRequests option does. */
function containerRequests(c: Container, defaults: boolean): ResourceList {
  const list = resourceListOf(c.resources?.requests as QuantityMap);
  if (defaults) {
    if (!list.has('cpu')) list.set('cpu', DEFAULT_MILLI_CPU_REQUEST);
    if (!list.has('memory')) list.set('memory', DEFAULT_MEMORY_REQUEST);
  }
  return list;
}

/** resourcehelper.PodRequests: max(containers + sidecars, each init container + the sidecars
 *  started before it) + overhead. */
export function podRequestList(pod: { spec?: PodSpec }, defaults: boolean): ResourceList {
  const spec = pod.spec;
  const reqs: ResourceList = new Map();
  if (!spec) return reqs;
  for (const c of spec.containers ?? []) addList(reqs, containerRequests(c, defaults));
  const sidecars: ResourceList = new Map();
  const initMax: ResourceList = new Map();
  for (const c of spec.initContainers ?? []) {
    const own = containerRequests(c, defaults);
    if (c.restartPolicy === 'Always') {
      // A sidecar keeps running beside the containers, and beside every init container after it.
      addList(reqs, own);
      addList(sidecars, own);
      maxList(initMax, sidecars);
    } else {
      const whileRunning: ResourceList = new Map(own);
      addList(whileRunning, sidecars);
      maxList(initMax, whileRunning);
    }
  }
  maxList(reqs, initMax);
  addList(reqs, resourceListOf(spec.overhead as QuantityMap));
  return reqs;
}


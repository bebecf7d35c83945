// Which pods go first when a controller scales down: Kubernetes' ActivePodsWithRanks ordering
// (pkg/controller/controller_utils.go, 1.32, with PodDeletionCost and LogarithmicScaleDown on as
// they are by default), plus the pod predicates it relies on (podutil.IsPodReady,
// IsPodAvailable, controller.IsPodActive). Pure functions over Pod objects.
import type { Pod } from 'kubernetes-types/core/v1.js';

/** The annotation whose integer value makes a pod cheaper (lower) or dearer to delete. */
export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

/** controller.IsPodActive: not Succeeded, not Failed, not being deleted. */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

function readyCondition(pod: Pod) {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

/** podutil.IsPodReady: the Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** ms since the epoch of an RFC 3339 time; undefined for absent or unparsable (Go's zero time). */
function timeOf(t: string | undefined): number | undefined {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

/** When the pod became ready (the Ready condition's lastTransitionTime), if it is ready. */
export function podReadySince(pod: Pod): number | undefined {
  const c = readyCondition(pod);
  return c?.status === 'True' ? timeOf(c.lastTransitionTime) : undefined;
}

/** podutil.IsPodAvailable: ready, and (minReadySeconds is 0, or it has been ready for strictly
 *  longer than minReadySeconds at `now`). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, now: number): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const since = podReadySince(pod);
  return since !== undefined && since + minReadySeconds * 1000 < now;
}

/** When a ready pod that is not yet available will become so (ms), or undefined. */
export function podAvailableAt(pod: Pod, minReadySeconds: number, now: number): number | undefined {
  if (minReadySeconds <= 0 || !isPodReady(pod) || isPodAvailable(pod, minReadySeconds, now)) return undefined;
  const since = podReadySince(pod);
  return since === undefined ? undefined : since + minReadySeconds * 1000 + 1;
}

/** helper.GetDeletionCostFromPodAnnotations; an absent or invalid value costs 0. */
export function podDeletionCost(pod: Pod): number {
  const v = pod.metadata?.annotations?.[POD_DELETION_COST];
  if (v === undefined || !/^[+-]?\d+$/.test(v.trim())) return 0;
  const n = Number(v.trim());
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
const phaseOrdinal = (pod: Pod): number => PHASE_ORDINAL[pod.status?.phase ?? ''] ?? 0;

/** Highest restart count of regular containers, then of restartable (sidecar) init containers. */
function maxRestarts(pod: Pod): [number, number] {
  let regular = 0;
  for (const c of pod.status?.containerStatuses ?? []) regular = Math.max(regular, c.restartCount ?? 0);
  const sidecars = new Set((pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always').map((c) => c.name));
  let sidecar = 0;
  for (const c of pod.status?.initContainerStatuses ?? []) if (sidecars.has(c.name)) sidecar = Math.max(sidecar, c.restartCount ?? 0);
  return [regular, sidecar];
}

/** afterOrZero: a zero time sorts first, then the later time. */
function afterOrZero(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return a === undefined;
  return a > b;
}

/** logarithmicRankDiff: compares floor(log2(age in ns)), so pods of similar age tie. */
function logRankDiff(a: number, b: number, now: number): number {
  const rank = (t: number) => {
    const d = (now - t) * 1e6;
    return d > 0 ? Math.trunc(Math.log2(d)) : -1;
  };
  return rank(a) - rank(b);
}

/** Newer (by log-bucketed age) sorts first; the same bucket breaks ties by UID. */
function newerFirst(a: number | undefined, b: number | undefined, uidA: string, uidB: string, now: number | undefined): boolean {
  if (now === undefined || a === undefined || b === undefined) return afterOrZero(a, b);
  const d = logRankDiff(a, b, now);
  if (d === 0) return uidA < uidB;
  return d < 0;
}

/** A pod with its rank: how many related active pods share its node (more sorts first). */
export interface RankedPod {
  pod: Pod;
  rank: number;
}

/**
 * ActivePodsWithRanks.Less: true when `a` should be deleted before `b`. In order: unassigned before
 * assigned; Pending < Unknown < Running; not ready before ready; lower pod-deletion-cost first;
 * higher rank (doubled up on a node) first; ready for less time first; more container restarts
 * first; newer first (zero creation time first). `now` (ms) buckets times logarithmically as
 * LogarithmicScaleDown does; without it times compare exactly.
 */
export function deletesBefore(a: RankedPod, b: RankedPod, now?: number): boolean {
  const pa = a.pod;
  const pb = b.pod;
  const na = pa.spec?.nodeName ?? '';
  const nb = pb.spec?.nodeName ?? '';
  if (na !== nb && (na === '' || nb === '')) return na === '';
  if (phaseOrdinal(pa) !== phaseOrdinal(pb)) return phaseOrdinal(pa) < phaseOrdinal(pb);
  const ra = isPodReady(pa);
  const rb = isPodReady(pb);
  if (ra !== rb) return !ra;
  const ca = podDeletionCost(pa);
  const cb = podDeletionCost(pb);
  if (ca !== cb) return ca < cb;
  if (a.rank !== b.rank) return a.rank > b.rank;
  const uidA = pa.metadata?.uid ?? '';
  const uidB = pb.metadata?.uid ?? '';
  if (ra && rb) {
    const ta = podReadySince(pa);
    const tb = podReadySince(pb);
    if (ta !== tb) return newerFirst(ta, tb, uidA, uidB, now);
  }
  const [ga, sa] = maxRestarts(pa);
  const [gb, sb] = maxRestarts(pb);
  if (ga !== gb) return ga > gb;
  if (sa !== sb) return sa > sb;
  const ta = timeOf(pa.metadata?.creationTimestamp);
  const tb = timeOf(pb.metadata?.creationTimestamp);
  if (ta !== tb) return newerFirst(ta, tb, uidA, uidB, now);
  return false;
}

/** getPodsRankedByRelatedPodsOnSameNode: each pod's rank is the number of active related pods
 *  (pods of the ReplicaSets sharing its owner, itself included) on its node. */
export function rankByRelatedPodsOnSameNode(pods: Pod[], related: Pod[]): RankedPod[] {
  const onNode = new Map<string, number>();
  for (const p of related) {
    if (!isPodActive(p)) continue;
    const n = p.spec?.nodeName ?? '';
    onNode.set(n, (onNode.get(n) ?? 0) + 1);
  }
  return pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
}

/** getPodsToDelete: the `count` pods to delete first, in deletion order (stable for ties). */
export function podsToDelete(pods: Pod[], related: Pod[], count: number, now?: number): Pod[] {
  if (count >= pods.length) return pods.slice();
  const ranked = rankByRelatedPodsOnSameNode(pods, related);
  ranked.sort((a, b) => (deletesBefore(a, b, now) ? -1 : deletesBefore(b, a, now) ? 1 : 0));
  return ranked.slice(0, count).map((r) => r.pod);
}

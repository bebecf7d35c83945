// The ReplicaSet controller's decisions, pure (pkg/controller/replicaset/replica_set.go and
// replica_set_utils.go, Kubernetes 1.32): which pods it claims, adopts and releases, how many pods
// to create or which to delete, in what bursts, and the status it reports. replicaset.ts reads the
// caches, asks these functions, and applies the answers.
import type { ReplicaSet, ReplicaSetCondition, ReplicaSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { OwnerReference } from '../api/types.js';
import { matches, selectorFromSet, type Selector } from '../api/selectors.js';
import { rfc3339 } from '../util/clock.js';
import { isPodActive, isPodAvailable, isPodReady, podAvailableAt, podsToDelete } from './pod-ranking.js';

/** Upstream's BurstReplicas: at most this many creates or deletes per reconcile. */
export const BURST_REPLICAS = 500;
/** controller.SlowStartInitialBatchSize. */
export const SLOW_START_INITIAL_BATCH = 1;

/** metav1.GetControllerOf: the owner reference with controller: true, if any. */
export function controllerOf(obj: { metadata?: { ownerReferences?: OwnerReference[] } }): OwnerReference | undefined {
  return obj.metadata?.ownerReferences?.find((r) => r.controller === true);
}

/** The sizes of slowStartBatch's batches for `count` calls: 1, 2, 4, … (each double the last,
 *  capped by what remains). A batch with any failure ends the sequence (the caller stops). */
export function slowStartBatches(count: number, initial = SLOW_START_INITIAL_BATCH): number[] {
  const out: number[] = [];
  let remaining = count;
  for (let size = Math.min(remaining, initial); size > 0; size = Math.min(2 * size, remaining)) {
    out.push(size);
    remaining -= size;
  }
  return out;
}

/** What claiming (PodControllerRefManager.ClaimPods) decides for the active pods of a namespace. */
export interface ClaimPlan {
  /** Pods already controlled by the ReplicaSet and still matching: they count. */
  owned: Pod[];
  /** Orphans that match: adopt them (then they count). */
  adopt: Pod[];
  /** Controlled pods that stopped matching: release them (they no longer count). */
  release: Pod[];
}

/**
 * ClaimPods: a pod controlled by another owner is left alone; one controlled by `rs` is kept while
 * its labels match the selector and released otherwise (unless `rs` is being deleted); an orphan
 * that matches is adopted unless `rs` or the pod is being deleted. `pods` should be the active
 * pods of rs's namespace.
 */
export function planClaims(rs: ReplicaSet, selector: Selector, pods: Pod[]): ClaimPlan {
  const plan: ClaimPlan = { owned: [], adopt: [], release: [] };
  const deleting = !!rs.metadata?.deletionTimestamp;
  for (const pod of pods) {
    const ref = controllerOf(pod as { metadata?: { ownerReferences?: OwnerReference[] } });
    const match = matches(selector, pod.metadata?.labels);
    if (ref) {
      if (ref.uid !== rs.metadata?.uid) continue;
      if (match) plan.owned.push(pod);
      else if (!deleting) plan.release.push(pod);
      continue;
    }
    if (deleting || !match || pod.metadata?.deletionTimestamp) continue;
    plan.adopt.push(pod);
  }
  return plan;
}

/** What manageReplicas should do: create `create` pods, or delete `delete` (in deletion order). */
export type ReplicasPlan = { create: number } | { delete: Pod[] } | { nothing: true };

/**
 * manageReplicas' arithmetic: the difference between the pods that count and spec.replicas
 * (default 1), capped at BURST_REPLICAS; on scale-down the pods picked by ActivePodsWithRanks with
 * `related` (the pods of the ReplicaSets sharing rs's controller) for node ranks.
 */
export function planReplicas(rs: ReplicaSet, owned: Pod[], related: Pod[], now: number): ReplicasPlan {
  const want = rs.spec?.replicas ?? 1;
  const diff = owned.length - want;
  if (diff < 0) return { create: Math.min(-diff, BURST_REPLICAS) };
  if (diff > 0) return { delete: podsToDelete(owned, related, Math.min(diff, BURST_REPLICAS), now) };
  return { nothing: true };
}

/** The failure of the last manageReplicas, if any. */
export interface ManageError {
  message: string;
}

/**
 * calculateStatus: replicas (pods that count), fullyLabeledReplicas (whose labels carry every
 * template label), readyReplicas, availableReplicas (ready for longer than minReadySeconds at
 * `now`), and the ReplicaFailure condition: set (FailedCreate / FailedDelete, with the error's
 * message) when manageReplicas failed and it is absent, removed once a sync succeeds. Zero counts
 * are omitted as Kubernetes' JSON omits them (replicas always present). observedGeneration is set
 * by the caller when writing.
 */
export function calculateStatus(rs: ReplicaSet, pods: Pod[], err: ManageError | undefined, now: number): ReplicaSetStatus {
  const template = selectorFromSet(rs.spec?.template?.metadata?.labels);
  const minReady = rs.spec?.minReadySeconds ?? 0;
  let fully = 0;
  let ready = 0;
  let available = 0;
  for (const p of pods) {
    if (matches(template, p.metadata?.labels)) fully++;
    if (isPodReady(p)) {
      ready++;
      if (isPodAvailable(p, minReady, now)) available++;
    }
  }
  const prev = rs.status ?? { replicas: 0 };
  let conditions: ReplicaSetCondition[] | undefined = prev.conditions;
  const failure = prev.conditions?.find((c) => c.type === 'ReplicaFailure');
  if (err && !failure) {
    const diff = pods.length - (rs.spec?.replicas ?? 1);
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
    const cond: ReplicaSetCondition = { type: 'ReplicaFailure', status: 'True', lastTransitionTime: rfc3339(now), reason, message: err.message };
    conditions = [...(prev.conditions ?? []), cond];
  } else if (!err && failure) {
    conditions = prev.conditions?.filter((c) => c.type !== 'ReplicaFailure');
  }
  const status: ReplicaSetStatus = { replicas: pods.length };
  if (fully) status.fullyLabeledReplicas = fully;
  if (ready) status.readyReplicas = ready;
  if (available) status.availableReplicas = available;
  if (prev.observedGeneration) status.observedGeneration = prev.observedGeneration;
  if (conditions && conditions.length) status.conditions = conditions;
  return status;
}

/** updateReplicaSetStatus' test: a write is needed when a count, the conditions, or
 *  observedGeneration (against metadata.generation) differ. */
export function statusNeedsWrite(rs: ReplicaSet, next: ReplicaSetStatus): boolean {
  const cur = rs.status ?? { replicas: 0 };
  return (
    (cur.replicas ?? 0) !== next.replicas ||
    (cur.fullyLabeledReplicas ?? 0) !== (next.fullyLabeledReplicas ?? 0) ||
    (cur.readyReplicas ?? 0) !== (next.readyReplicas ?? 0) ||
    (cur.availableReplicas ?? 0) !== (next.availableReplicas ?? 0) ||
    (rs.metadata?.generation ?? 0) !== (cur.observedGeneration ?? 0) ||
    JSON.stringify(cur.conditions ?? []) !== JSON.stringify(next.conditions ?? [])
  );
}

/** When the next pod turns available (so status must be recomputed), as ms from `now`. */
export function nextAvailableInMs(rs: ReplicaSet, pods: Pod[], now: number): number | undefined {
  let first: number | undefined;
  for (const p of pods) {
    const at = podAvailableAt(p, rs.spec?.minReadySeconds ?? 0, now);
    if (at !== undefined && (first === undefined || at < first)) first = at;
  }
  return first === undefined ? undefined : Math.max(0, first - now);
}

/** The pods whose state counts (FilterActivePods). */
export function activePods(pods: Pod[]): Pod[] {
  return pods.filter(isPodActive);
}

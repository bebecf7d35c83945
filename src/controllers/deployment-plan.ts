// What one sync of a Deployment should change (pkg/controller/deployment of Kubernetes 1.32:
// syncDeployment, rolling.go, recreate.go, sync.go). planDeployment replays upstream's sequence of
// decisions on copies of the Deployment and its ReplicaSets — each decision sees the previous ones'
// effects, as upstream's in-memory objects do — and returns the writes in order plus the final
// status. It is pure: the controller applies the writes and comes back on the next change.
import {
  active,
  byCreation,
  byRevision,
  bySizeNewer,
  bySizeOlder,
  computeHash,
  DESIRED_REPLICAS,
  desiredReplicasAnnotation,
  equalIgnoreHash,
  isRollingUpdate,
  MAX_REPLICAS,
  maxSurge,
  maxUnavailable,
  newRSNewReplicas,
  POD_TEMPLATE_HASH,
  proportion,
  replicasOf,
  REVISION,
  REVISION_HISTORY,
  revisionOf,
  SKIPPED_ANNOTATIONS,
  specReplicas,
  sumSpec,
  sumStatus,
  canonical,
  type Deployment,
  type DeploymentStatus,
  type ReplicaSet,
} from './deployment-math.js';
import { applyPausedCondition, calculateStatus, getCondition, hasProgressDeadline, newCondition, PROGRESSING, REASON, rolloutStatus, setCondition, stuckRequeueMs, deploymentComplete } from './deployment-status.js';

/** An event about the Deployment, recorded once its write succeeded. */
export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** One write, in order. `update` carries the whole ReplicaSet (spec.replicas, annotations,
 *  minReadySeconds changed) with the resourceVersion it was read at. */
export type Write =
  | { op: 'create'; rs: ReplicaSet; event?: PlannedEvent }
  | { op: 'update'; rs: ReplicaSet; event?: PlannedEvent }
  | { op: 'delete'; name: string; uid?: string };

export interface PlanInput {
  deployment: Deployment;
  /** The ReplicaSets this Deployment controls (controller ownerReference with its uid). */
  replicaSets: ReplicaSet[];
  /** Phases of the pods of each of its ReplicaSets, by ReplicaSet uid (Recreate waits for old ones). */
  podPhases?: Map<string, string[]>;
  nowMs: number;
}

export interface DeploymentPlan {
  writes: Write[];
  /** The Deployment's new annotations (its revision changed), else undefined. */
  annotations?: Record<string, string>;
  /** The new status when it differs from the stored one, else undefined. */
  status?: DeploymentStatus;
  /** Come back after this long (the progress deadline) even if nothing changes. */
  requeueAfterMs?: number;
}

const MAX_REV_HISTORY_CHARS = 2000;
const same = (a: unknown, b: unknown): boolean => JSON.stringify(canonical(a) ?? null) === JSON.stringify(canonical(b) ?? null);

/** Plans one sync of a Deployment. Inputs are not mutated. */
export function planDeployment(input: PlanInput): DeploymentPlan {
  const d: Deployment = structuredClone(input.deployment);
  d.status ??= {};
  const rsList = input.replicaSets.map((rs) => structuredClone(rs));
  const now = input.nowMs;
  const writes: Write[] = [];
  const replicas = replicasOf(d);

  const scaleReplicaSet = (rs: ReplicaSet, newScale: number, operation: string): boolean => {
    const from = specReplicas(rs);
    const sizeChanged = from !== newScale;
    const annotationsChanged = setReplicasAnnotations(rs, replicas, replicas + maxSurge(d));
    if (!sizeChanged && !annotationsChanged) return false;
    rs.spec.replicas = newScale;
    const event = sizeChanged
      ? { type: 'Normal' as const, reason: 'ScalingReplicaSet', message: `Scaled ${operation} replica set ${rs.metadata.name} from ${from} to ${newScale}` }
      : undefined;
    writes.push({ op: 'update', rs: structuredClone(rs), ...(event ? { event } : {}) });
    return sizeChanged;
  };
  const scaleAndRecord = (rs: ReplicaSet, newScale: number): boolean => {
    if (specReplicas(rs) === newScale) return false;
    return scaleReplicaSet(rs, newScale, newScale > specReplicas(rs) ? 'up' : 'down');
  };

  /** getAllReplicaSetsAndSyncRevision: the new ReplicaSet (the oldest whose template is the
   *  Deployment's), created when asked, and the revision bookkeeping on both. */
  const newAndOld = (create: boolean): { newRS: ReplicaSet | undefined; old: ReplicaSet[] } => {
    const sorted = [...rsList].sort(byCreation);
    const existing = sorted.find((rs) => equalIgnoreHash(rs.spec.template, d.spec.template));
    const old = rsList.filter((rs) => rs !== existing);
    const newRevision = String(Math.max(0, ...old.map(revisionOf)) + 1);
    if (existing) {
      const annotationsChanged = setNewReplicaSetAnnotations(d, existing, newRevision, true);
      const minReady = d.spec.minReadySeconds ?? 0;
      if (annotationsChanged || (existing.spec.minReadySeconds ?? 0) !== minReady) {
        if (minReady) existing.spec.minReadySeconds = minReady;
        else delete existing.spec.minReadySeconds;
        writes.push({ op: 'update', rs: structuredClone(existing) });
      }
      setDeploymentRevision(d, existing.metadata.annotations?.[REVISION] ?? '');
      if (hasProgressDeadline(d) && !getCondition(d.status, PROGRESSING)) {
        setCondition(d.status!, newCondition(PROGRESSING, 'True', REASON.foundNewRS, `Found new replica set "${existing.metadata.name}"`, now));
      }
      return { newRS: existing, old };
    }
    if (!create) return { newRS: undefined, old };
    const hash = computeHash(d.spec.template, d.status?.collisionCount);
    const template = structuredClone(d.spec.template ?? {});
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, [POD_TEMPLATE_HASH]: hash } };
    const selector = structuredClone(d.spec.selector ?? {});
    selector.matchLabels = { ...selector.matchLabels, [POD_TEMPLATE_HASH]: hash };
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels: { ...template.metadata.labels },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name ?? '', uid: d.metadata.uid ?? '', controller: true, blockOwnerDeletion: true },
        ],
      },
      spec: { replicas: 0, selector, template, ...(d.spec.minReadySeconds ? { minReadySeconds: d.spec.minReadySeconds } : {}) },
    };
    rs.spec.replicas = newRSNewReplicas(d, [...old, rs], rs);
    setNewReplicaSetAnnotations(d, rs, newRevision, false);
    const n = rs.spec.replicas;
    const event = n > 0 ? { type: 'Normal' as const, reason: 'ScalingReplicaSet', message: `Scaled up replica set ${rs.metadata.name} from 0 to ${n}` } : undefined;
    writes.push({ op: 'create', rs: structuredClone(rs), ...(event ? { event } : {}) });
    rs.metadata.creationTimestamp = new Date(now).toISOString();
    rs.status = { replicas: 0 };
    rsList.push(rs);
    setDeploymentRevision(d, newRevision);
    if (hasProgressDeadline(d)) {
      setCondition(d.status!, newCondition(PROGRESSING, 'True', REASON.newRSCreated, `Created new replica set "${rs.metadata.name}"`, now));
    }
    return { newRS: rs, old };
  };

  /** cleanupDeployment: delete the oldest-revision old ReplicaSets beyond revisionHistoryLimit,
   *  only those fully scaled down and observed so. */
  const cleanup = (old: ReplicaSet[]): void => {
    const limit = d.spec.revisionHistoryLimit;
    if (limit === undefined) return;
    const alive = old.filter((rs) => !rs.metadata.deletionTimestamp).sort(byRevision);
    const diff = alive.length - limit;
    for (let i = 0; i < diff; i++) {
      const rs = alive[i]!;
      if ((rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0) continue;
      if ((rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      writes.push({ op: 'delete', name: rs.metadata.name ?? '', ...(rs.metadata.uid ? { uid: rs.metadata.uid } : {}) });
    }
  };

  /** sync.go scale: one active (or latest) ReplicaSet takes the whole size; a saturated new one
   *  empties the old ones; otherwise the change is spread in proportion to sizes. */
  const scale = (newRS: ReplicaSet | undefined, old: ReplicaSet[]): void => {
    const latest = activeOrLatest(newRS, old);
    if (latest) {
      if (specReplicas(latest) !== replicas) scaleAndRecord(latest, replicas);
      return;
    }
    if (newRS && isSaturated(d, newRS)) {
      for (const rs of active(old)) scaleAndRecord(rs, 0);
      return;
    }
    if (!isRollingUpdate(d)) return;
    const all = active([...old, newRS]);
    const allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
    const toAdd = allowed - sumSpec(all);
    let operation = '';
    if (toAdd > 0) {
      all.sort(bySizeNewer);
      operation = 'up';
    } else if (toAdd < 0) {
      all.sort(bySizeOlder);
      operation = 'down';
    }
    let added = 0;
    const sizes = new Map<ReplicaSet, number>();
    for (const rs of all) {
      const p = toAdd !== 0 ? proportion(rs, d, toAdd, added) : 0;
      sizes.set(rs, specReplicas(rs) + p);
      added += p;
    }
    all.forEach((rs, i) => {
      let size = sizes.get(rs) ?? 0;
      // Leftovers from rounding go to the largest ReplicaSet.
      if (i === 0 && toAdd !== 0) size = Math.max(0, size + toAdd - added);
      scaleReplicaSet(rs, size, operation);
    });
  };

  const finish = (status: DeploymentStatus): DeploymentPlan => {
    const plan: DeploymentPlan = { writes };
    if (!same(d.metadata.annotations, input.deployment.metadata.annotations)) plan.annotations = d.metadata.annotations ?? {};
    if (!same(status, input.deployment.status ?? {})) plan.status = status;
    else {
      const after = stuckRequeueMs(d, status, now);
      if (after !== undefined) plan.requeueAfterMs = after;
    }
    return plan;
  };

  /** sync.go sync: scaling (and paused) Deployments only resize, never roll. */
  const syncScaling = (): DeploymentPlan => {
    const { newRS, old } = newAndOld(false);
    scale(newRS, old);
    if (d.spec.paused) cleanup(old);
    return finish(calculateStatus(newRS ? [...old, newRS] : old, newRS, d, now));
  };

  if (d.metadata.deletionTimestamp) {
    const { newRS, old } = newAndOld(false);
    return finish(calculateStatus(newRS ? [...old, newRS] : old, newRS, d, now));
  }
  applyPausedCondition(d, now);
  if (d.spec.paused || isScalingEvent(d, rsList)) return syncScaling();

  if (!isRollingUpdate(d)) {
    // recreate.go: old ReplicaSets to zero and their pods gone before the new one exists.
    let { newRS, old } = newAndOld(false);
    const all = (): ReplicaSet[] => (newRS ? [...old, newRS] : old);
    let scaledDown = false;
    for (const rs of active(old)) if (scaleAndRecord(rs, 0)) scaledDown = true;
    if (scaledDown || oldPodsRunning(newRS, old, input.podPhases)) return finish(rolloutStatus(all(), newRS, d, now));
    if (!newRS) ({ newRS, old } = newAndOld(true));
    if (newRS && reconcileNew(d, [...old, newRS], newRS, scaleAndRecord)) return finish(rolloutStatus(all(), newRS, d, now));
    if (deploymentComplete(d, d.status!)) cleanup(old);
    return finish(rolloutStatus(all(), newRS, d, now));
  }

  // rolling.go rolloutRolling.
  const { newRS, old } = newAndOld(true);
  const all = [...old, newRS!];
  if (reconcileNew(d, all, newRS!, scaleAndRecord)) return finish(rolloutStatus(all, newRS, d, now));
  if (reconcileOld(d, all, active(old), newRS!, scaleAndRecord)) return finish(rolloutStatus(all, newRS, d, now));
  if (deploymentComplete(d, d.status!)) cleanup(old);
  return finish(rolloutStatus(all, newRS, d, now));
}

/** reconcileNewReplicaSet: shrink an oversized new ReplicaSet, else grow it as maxSurge allows. */
function reconcileNew(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet, scaleAndRecord: (rs: ReplicaSet, n: number) => boolean): boolean {
  const replicas = replicasOf(d);
  if (specReplicas(newRS) === replicas) return false;
  if (specReplicas(newRS) > replicas) return scaleAndRecord(newRS, replicas);
  return scaleAndRecord(newRS, newRSNewReplicas(d, all, newRS));
}

/**
 * reconcileOldReplicaSets: scale old ReplicaSets down as far as maxUnavailable allows, first
 * their unhealthy replicas (cleanupUnhealthyReplicas), then available ones
 * (scaleDownOldReplicaSetsForRollingUpdate), oldest first.
 */
export function reconcileOld(d: Deployment, all: ReplicaSet[], oldActive: ReplicaSet[], newRS: ReplicaSet, scaleAndRecord: (rs: ReplicaSet, n: number) => boolean): boolean {
  if (sumSpec(oldActive) === 0) return false;
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = sumSpec(all) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;

  const olds = [...oldActive].sort(byCreation);
  let cleaned = 0;
  for (const rs of olds) {
    if (cleaned >= maxScaledDown) break;
    const available = rs.status?.availableReplicas ?? 0;
    if (specReplicas(rs) === 0 || specReplicas(rs) === available) continue;
    const down = Math.min(maxScaledDown - cleaned, specReplicas(rs) - available);
    scaleAndRecord(rs, specReplicas(rs) - down);
    cleaned += down;
  }

  let scaled = 0;
  const availableNow = sumStatus(all, 'availableReplicas');
  if (availableNow > minAvailable) {
    const total = availableNow - minAvailable;
    for (const rs of olds) {
      if (scaled >= total) break;
      if (specReplicas(rs) === 0) continue;
      const down = Math.min(specReplicas(rs), total - scaled);
      scaleAndRecord(rs, specReplicas(rs) - down);
      scaled += down;
    }
  }
  return cleaned + scaled > 0;
}

/** isScalingEvent: an active ReplicaSet was sized for another spec.replicas than the current one. */
export function isScalingEvent(d: Deployment, rsList: ReplicaSet[]): boolean {
  return active(rsList).some((rs) => {
    const desired = desiredReplicasAnnotation(rs);
    return desired !== undefined && desired !== replicasOf(d);
  });
}

/** FindActiveOrLatest: the only active ReplicaSet, or the newest when none is active. */
function activeOrLatest(newRS: ReplicaSet | undefined, old: ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && old.length === 0) return undefined;
  const newestFirst = [...old].sort((a, b) => byCreation(b, a));
  const all = active([...newestFirst, newRS]);
  if (all.length === 0) return newRS ?? newestFirst[0];
  return all.length === 1 ? all[0] : undefined;
}

/** IsSaturated: the new ReplicaSet is sized for, and has available, all the replicas. */
function isSaturated(d: Deployment, rs: ReplicaSet): boolean {
  const r = replicasOf(d);
  return specReplicas(rs) === r && desiredReplicasAnnotation(rs) === r && (rs.status?.availableReplicas ?? 0) === r;
}

/** oldPodsRunning: old ReplicaSets still report replicas, or have pods not yet Failed/Succeeded. */
function oldPodsRunning(newRS: ReplicaSet | undefined, old: ReplicaSet[], podPhases: Map<string, string[]> | undefined): boolean {
  if (sumStatus(old, 'replicas') > 0) return true;
  for (const [uid, phases] of podPhases ?? []) {
    if (newRS && newRS.metadata.uid === uid) continue;
    if (phases.some((p) => p !== 'Failed' && p !== 'Succeeded')) return true;
  }
  return false;
}

/** SetReplicasAnnotations: desired-replicas and max-replicas; true when either changed. */
function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const a = (rs.metadata.annotations ??= {});
  let changed = false;
  if (a[DESIRED_REPLICAS] !== String(desired)) {
    a[DESIRED_REPLICAS] = String(desired);
    changed = true;
  }
  if (a[MAX_REPLICAS] !== String(max)) {
    a[MAX_REPLICAS] = String(max);
    changed = true;
  }
  return changed;
}

/** SetDeploymentRevision: the Deployment's revision annotation follows its new ReplicaSet's. */
function setDeploymentRevision(d: Deployment, revision: string): void {
  if (d.metadata.annotations?.[REVISION] === revision) return;
  d.metadata.annotations = { ...d.metadata.annotations, [REVISION]: revision };
}

/**
 * SetNewReplicaSetAnnotations: the Deployment's annotations copied (but kubectl's last-applied and
 * the controller's own), the revision raised to newRevision — a ReplicaSet brought back by a
 * rollback remembers its earlier revisions in revision-history — and, on creation, the replicas
 * annotations. True when anything changed.
 */
function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: string, exists: boolean): boolean {
  const a = (rs.metadata.annotations ??= {});
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (SKIPPED_ANNOTATIONS.has(k) || a[k] === v) continue;
    a[k] = v;
    changed = true;
  }
  const oldRevision = a[REVISION];
  const oldInt = oldRevision === undefined ? 0 : Number(oldRevision);
  if (!Number.isInteger(oldInt)) return changed;
  if (oldInt < Number(newRevision)) {
    a[REVISION] = newRevision;
    changed = true;
    if (oldRevision !== undefined) {
      const history = a[REVISION_HISTORY] ? `${a[REVISION_HISTORY]},${oldRevision}` : oldRevision;
      let parts = history.split(',');
      while (parts.length > 1 && parts.join(',').length > MAX_REV_HISTORY_CHARS) parts = parts.slice(1);
      a[REVISION_HISTORY] = parts.join(',');
    }
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

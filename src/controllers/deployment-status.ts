// A Deployment's status and conditions as kube-controller-manager 1.32 writes them
// (pkg/controller/deployment/sync.go calculateStatus / syncRolloutStatus / checkPausedConditions /
// requeueStuckDeployment, and deployment_util.go's condition helpers), with upstream's reasons and
// messages, so `kubectl rollout status` and `kubectl describe` read the same sentences. Pure.
import {
  maxUnavailable,
  replicasOf,
  sumSpec,
  sumStatus,
  type Deployment,
  type DeploymentCondition,
  type DeploymentStatus,
  type ReplicaSet,
} from './deployment-math.js';

export const AVAILABLE = 'Available';
export const PROGRESSING = 'Progressing';
export const REASON = {
  minimumReplicasAvailable: 'MinimumReplicasAvailable',
  minimumReplicasUnavailable: 'MinimumReplicasUnavailable',
  newRSCreated: 'NewReplicaSetCreated',
  foundNewRS: 'FoundNewReplicaSet',
  rsUpdated: 'ReplicaSetUpdated',
  newRSAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  failedRSCreate: 'ReplicaSetCreateError',
} as const;

/** Kubernetes timestamps have second precision (metav1.Time). */
export function timestamp(nowMs: number): string {
  return new Date(Math.floor(nowMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** NewDeploymentCondition: both times now. */
export function newCondition(type: string, status: DeploymentCondition['status'], reason: string, message: string, nowMs: number): DeploymentCondition {
  const t = timestamp(nowMs);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

export function getCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  const rest = (status.conditions ?? []).filter((c) => c.type !== type);
  if (rest.length) status.conditions = rest;
  else delete status.conditions;
}

/** SetDeploymentCondition: nothing changes when status and reason are the same; a condition
 *  whose status is unchanged keeps its lastTransitionTime; it goes to the end of the list. */
export function setCondition(status: DeploymentStatus, c: DeploymentCondition): void {
  const current = getCondition(status, c.type);
  if (current && current.status === c.status && current.reason === c.reason) return;
  const next = { ...c };
  if (current && current.status === c.status) next.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((x) => x.type !== c.type), next];
}

/** HasProgressDeadline: set and not MaxInt32. */
export function hasProgressDeadline(d: Deployment): boolean {
  const s = d.spec.progressDeadlineSeconds;
  return s !== undefined && s !== 2147483647;
}

/** calculateStatus: counts summed over every ReplicaSet, updated = the new one's, and the
 *  Available condition from maxUnavailable. Other conditions are copied from d.status. */
export function calculateStatus(all: ReplicaSet[], newRS: ReplicaSet | undefined, d: Deployment, nowMs: number): DeploymentStatus {
  const available = sumStatus(all, 'availableReplicas');
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 0,
    replicas: sumStatus(all, 'replicas'),
    updatedReplicas: sumStatus([newRS], 'replicas'),
    readyReplicas: sumStatus(all, 'readyReplicas'),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, sumSpec(all) - available),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (d.status?.conditions?.length) status.conditions = d.status.conditions.map((c) => ({ ...c }));
  if (available >= replicasOf(d) - maxUnavailable(d)) {
    setCondition(status, newCondition(AVAILABLE, 'True', REASON.minimumReplicasAvailable, 'Deployment has minimum availability.', nowMs));
  } else {
    setCondition(status, newCondition(AVAILABLE, 'False', REASON.minimumReplicasUnavailable, 'Deployment does not have minimum availability.', nowMs));
  }
  return status;
}

/** DeploymentComplete: every replica updated and available, and this generation observed. */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const r = replicasOf(d);
  return s.updatedReplicas === r && s.replicas === r && s.availableReplicas === r && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** DeploymentProgressing: more updated/ready/available replicas, or fewer old ones, than before. */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** DeploymentTimedOut: the Progressing condition has not been updated for progressDeadlineSeconds. */
export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, PROGRESSING);
  if (!c || c.reason === REASON.newRSAvailable) return false;
  if (c.reason === REASON.timedOut) return true;
  const from = Date.parse(c.lastUpdateTime ?? '');
  return Number.isFinite(from) && from + (d.spec.progressDeadlineSeconds ?? 0) * 1000 < nowMs;
}

/**
 * syncRolloutStatus's status: calculateStatus plus the Progressing condition (complete,
 * progressing, or timed out), with upstream's messages naming the new ReplicaSet.
 */
export function rolloutStatus(all: ReplicaSet[], newRS: ReplicaSet | undefined, d: Deployment, nowMs: number): DeploymentStatus {
  const s = calculateStatus(all, newRS, d, nowMs);
  if (!hasProgressDeadline(d)) removeCondition(s, PROGRESSING);
  const current = getCondition(d.status, PROGRESSING);
  const complete = s.replicas === s.updatedReplicas && current?.reason === REASON.newRSAvailable;
  if (hasProgressDeadline(d) && !complete) {
    const who = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
    if (deploymentComplete(d, s)) {
      setCondition(s, newCondition(PROGRESSING, 'True', REASON.newRSAvailable, `${who} has successfully progressed.`, nowMs));
    } else if (deploymentProgressing(d, s)) {
      const c = newCondition(PROGRESSING, 'True', REASON.rsUpdated, `${who} is progressing.`, nowMs);
      // Unlike setCondition, progress refreshes lastUpdateTime (the deadline counts from it).
      if (current) {
        if (current.status === 'True') c.lastTransitionTime = current.lastTransitionTime;
        removeCondition(s, PROGRESSING);
      }
      setCondition(s, c);
    } else if (deploymentTimedOut(d, s, nowMs)) {
      setCondition(s, newCondition(PROGRESSING, 'False', REASON.timedOut, `${who} has timed out progressing.`, nowMs));
    }
  }
  return s;
}

/** checkPausedConditions: Progressing Unknown DeploymentPaused / DeploymentResumed when
 *  spec.paused flips, unless the deadline was already reported exceeded. Mutates d.status;
 *  true when it changed. */
export function applyPausedCondition(d: Deployment, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(d.status, PROGRESSING);
  if (c?.reason === REASON.timedOut) return false;
  const pausedExists = c?.reason === REASON.paused;
  d.status ??= {};
  if (d.spec.paused && !pausedExists) {
    setCondition(d.status, newCondition(PROGRESSING, 'Unknown', REASON.paused, 'Deployment is paused', nowMs));
    return true;
  }
  if (!d.spec.paused && pausedExists) {
    setCondition(d.status, newCondition(PROGRESSING, 'Unknown', REASON.resumed, 'Deployment is resumed', nowMs));
    return true;
  }
  return false;
}

/**
 * requeueStuckDeployment: when a rollout is under way and nothing changed, when to look again so
 * the deadline is noticed (a second past it), or undefined when there is nothing to wait for.
 */
export function stuckRequeueMs(d: Deployment, s: DeploymentStatus, nowMs: number): number | undefined {
  const c = getCondition(d.status, PROGRESSING);
  if (!hasProgressDeadline(d) || !c) return undefined;
  if (deploymentComplete(d, s) || c.reason === REASON.timedOut) return undefined;
  const from = Date.parse(c.lastUpdateTime ?? '');
  if (!Number.isFinite(from)) return undefined;
  const after = from + (d.spec.progressDeadlineSeconds ?? 0) * 1000 - nowMs;
  return Math.max(0, after) + 1000;
}

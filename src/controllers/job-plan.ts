// The pure decisions of the Job controller (kubernetes pkg/controller/job, 1.32): which pods count
// as succeeded or failed, what the pod failure policy says about a failed pod, the pod failure
// back-off, Indexed mode's completion indexes, and — from the job, its pods and the counts — the
// job's conditions and how many pods to create or delete. job.ts only reads and writes.
import type { Job, JobCondition, PodFailurePolicyRule } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const JOB_COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
export const JOB_COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
export const DEFAULT_BACKOFF_MS = 10_000;
/** MaxJobPodFailureBackOff: 10 minutes in the controller's code (the docs say six). */
export const MAX_BACKOFF_MS = 10 * 60_000;

export const MSG_BACKOFF = 'Job has reached the specified backoff limit';
export const MSG_DEADLINE = 'Job was active longer than specified deadline';
export const MSG_COMPLETIONS = 'Reached expected number of succeeded pods';

const phase = (p: Pod) => p.status?.phase ?? '';
export const isSucceeded = (p: Pod) => phase(p) === 'Succeeded';
export const isTerminal = (p: Pod) => phase(p) === 'Succeeded' || phase(p) === 'Failed';
export const hasFinalizer = (p: Pod) => (p.metadata?.finalizers ?? []).includes(JOB_TRACKING_FINALIZER);

/** onlyReplaceFailedPods: podReplacementPolicy Failed, or a pod failure policy. */
export function onlyReplaceFailed(job: Job): boolean {
  return job.spec?.podReplacementPolicy === 'Failed' || job.spec?.podFailurePolicy !== undefined;
}

/** isPodFailed: phase Failed, or (unless only failed pods are replaced) deleted before succeeding,
 *  for orphans that never get to the Failed phase. */
export function isFailed(p: Pod, job: Job): boolean {
  if (phase(p) === 'Failed') return true;
  if (onlyReplaceFailed(job)) return false;
  return !!p.metadata?.deletionTimestamp && phase(p) !== 'Succeeded';
}

/** Active: not terminal and not being deleted. */
export const isActive = (p: Pod) => !isTerminal(p) && !p.metadata?.deletionTimestamp;
/** CountTerminatingPods: being deleted and not terminal. */
export const isTerminating = (p: Pod) => !isTerminal(p) && !!p.metadata?.deletionTimestamp;
export const isReady = (p: Pod) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** The completion index of a pod (annotation, then label), or undefined when missing or invalid. */
export function podIndex(p: Pod, completions: number): number | undefined {
  const v = p.metadata?.annotations?.[JOB_COMPLETION_INDEX] ?? p.metadata?.labels?.[JOB_COMPLETION_INDEX];
  if (v === undefined || !/^(0|[1-9]\d*)$/.test(v)) return undefined;
  const i = Number(v);
  return i < completions ? i : undefined;
}

export type PolicyAction = 'FailJob' | 'Ignore' | 'Count' | 'FailIndex';

/** matchPodFailurePolicy: the first rule matching a failed pod — its action and, for FailJob, the
 *  condition message upstream writes. Undefined: no rule matched (count it). */
export function matchPodFailurePolicy(job: Job, pod: Pod): { action: PolicyAction; message: string } | undefined {
  const rules: PodFailurePolicyRule[] = job.spec?.podFailurePolicy?.rules ?? [];
  const ref = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  for (const [i, rule] of rules.entries()) {
    const action = rule.action as PolicyAction;
    if (rule.onExitCodes) {
      const req = rule.onExitCodes;
      const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
      for (const cs of statuses) {
        if (req.containerName && req.containerName !== cs.name) continue;
        const code = cs.state?.terminated?.exitCode;
        if (code === undefined || code === 0) continue;
        const inSet = req.values.includes(code);
        if (req.operator === 'In' ? inSet : !inSet) {
          return { action, message: `Container ${cs.name} for pod ${ref} failed with exit code ${code} matching ${action} rule at index ${i}` };
        }
      }
    }
    for (const pat of rule.onPodConditions ?? []) {
      const c = (pod.status?.conditions ?? []).find((x) => x.type === pat.type && x.status === (pat.status ?? 'True'));
      if (c) return { action, message: `Pod ${ref} has condition ${pat.type} matching ${action} rule at index ${i}` };
    }
  }
  return undefined;
}

/** When a pod finished (ms): its containers' last finishedAt, else its Ready condition's last
 *  transition, else its creation. */
export function finishTime(p: Pod): number {
  let t = 0;
  for (const cs of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) {
    const f = cs.state?.terminated?.finishedAt;
    if (f) t = Math.max(t, Date.parse(f));
  }
  if (t) return t;
  const ready = (p.status?.conditions ?? []).find((c) => c.type === 'Ready')?.lastTransitionTime;
  if (ready) return Date.parse(ready);
  return Date.parse(p.metadata?.creationTimestamp ?? '') || 0;
}

/** The pod failure back-off still to wait (ms): base·2^(failures−1), capped, from the last
 *  failure, counting only failures after the last success (upstream's backoffRecord). */
export function remainingBackoffMs(finished: { failed: boolean; at: number }[], now: number, baseMs = DEFAULT_BACKOFF_MS, maxMs = MAX_BACKOFF_MS): number {
  const sorted = [...finished].sort((a, b) => a.at - b.at);
  let failures = 0;
  let last = 0;
  for (const f of sorted) {
    if (f.failed) {
      failures++;
      last = f.at;
    } else failures = 0;
  }
  if (failures === 0) return 0;
  const backoff = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
  return Math.max(0, backoff - (now - last));
}

/** pastBackoffLimitOnFailure: with restartPolicy OnFailure, container restarts of pending and
 *  running pods count toward backoffLimit. */
export function pastBackoffLimitOnFailure(job: Job, pods: Pod[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    if (phase(p) !== 'Running' && phase(p) !== 'Pending') continue;
    for (const cs of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += cs.restartCount ?? 0;
  }
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** Parses completedIndexes ("1,3-5,7"). */
export function parseIndexes(s: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    if (a === undefined || Number.isNaN(a)) continue;
    for (let i = a; i <= (b ?? a); i++) out.add(i);
  }
  return out;
}

/** Formats indexes as completedIndexes does: sorted, runs of 2+ as ranges ("1,3-5,7"). */
export function formatIndexes(set: Iterable<number>): string {
  const xs = [...new Set(set)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === (xs[j] as number) + 1) j++;
    parts.push(j > i ? `${xs[i]}-${xs[j]}` : `${xs[i]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The lowest `n` indexes below `completions` that are neither completed nor active. */
export function firstPendingIndexes(completions: number, completed: Set<number>, active: Set<number>, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < n; i++) if (!completed.has(i) && !active.has(i)) out.push(i);
  return out;
}

export interface CondSpec {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** Sets a condition as upstream's ensureJobConditionStatus: an unchanged one is kept as is; a
 *  changed one gets new times. Returns the new list and whether anything changed. */
export function setCondition(conds: JobCondition[], c: CondSpec, nowIso: string): { conditions: JobCondition[]; changed: boolean } {
  const i = conds.findIndex((x) => x.type === c.type);
  const cur = conds[i];
  if (cur && cur.status === c.status && (cur.reason ?? '') === (c.reason ?? '') && (cur.message ?? '') === (c.message ?? '')) return { conditions: conds, changed: false };
  if (!cur && c.status !== 'True') return { conditions: conds, changed: false };
  const next: JobCondition = { type: c.type, status: c.status, lastProbeTime: nowIso, lastTransitionTime: cur && cur.status === c.status ? cur.lastTransitionTime : nowIso, reason: c.reason, message: c.message };
  const out = [...conds];
  if (cur) out[i] = next;
  else out.push(next);
  return { conditions: out, changed: true };
}

export const hasTrueCondition = (job: Job, type: string) => (job.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
export const isFinished = (job: Job) => hasTrueCondition(job, 'Complete') || hasTrueCondition(job, 'Failed');

export interface Counts {
  /** Counted plus uncounted succeeded and failed pods. */
  succeeded: number;
  failed: number;
  /** Indexed mode: the completed indexes. */
  completed: Set<number>;
}

/** Why the job must fail now, or undefined: a FailJob rule, the backoff limit, the deadline
 *  (checked in that order, as syncJob). */
export function failureReason(job: Job, pods: Pod[], counts: Counts, now: number, failJobMessage?: string): { reason: string; message: string } | undefined {
  if (failJobMessage) return { reason: 'PodFailurePolicy', message: failJobMessage };
  const limit = job.spec?.backoffLimit ?? 6;
  if (counts.failed > limit || pastBackoffLimitOnFailure(job, pods)) return { reason: 'BackoffLimitExceeded', message: MSG_BACKOFF };
  if (pastActiveDeadline(job, now)) return { reason: 'DeadlineExceeded', message: MSG_DEADLINE };
  return undefined;
}

/** pastActiveDeadline: activeDeadlineSeconds elapsed since startTime (never while suspended). */
export function pastActiveDeadline(job: Job, now: number): boolean {
  const d = job.spec?.activeDeadlineSeconds;
  const start = job.status?.startTime;
  if (d === undefined || d === null || !start || job.spec?.suspend) return false;
  return now - Date.parse(start) >= d * 1000;
}

/** Ms until the active deadline passes (undefined: no deadline pending). */
export function msUntilDeadline(job: Job, now: number): number | undefined {
  const d = job.spec?.activeDeadlineSeconds;
  const start = job.status?.startTime;
  if (d === undefined || d === null || !start || job.spec?.suspend) return undefined;
  return Math.max(0, Date.parse(start) + d * 1000 - now);
}

/** Whether the job reached its completions: Indexed — every index completed; NonIndexed with
 *  completions — that many successes; without completions — one success and no active pod. */
export function successCriteriaMet(job: Job, counts: Counts, active: number): boolean {
  const completions = job.spec?.completions;
  if (job.spec?.completionMode === 'Indexed') return counts.completed.size >= (completions ?? 0);
  if (completions === undefined || completions === null) return counts.succeeded > 0 && active === 0;
  return counts.succeeded >= completions;
}

/** manageJob's arithmetic: how many pods should be active — min(parallelism, remaining
 *  completions); without completions, parallelism until a pod succeeds, then the active ones. */
export function wantActive(job: Job, counts: Counts, active: number): number {
  const parallelism = job.spec?.parallelism ?? 1;
  if (job.spec?.suspend) return 0;
  const completions = job.spec?.completions;
  if (completions === undefined || completions === null) return counts.succeeded > 0 ? active : parallelism;
  const done = job.spec?.completionMode === 'Indexed' ? counts.completed.size : counts.succeeded;
  return Math.max(0, Math.min(parallelism, completions - done));
}

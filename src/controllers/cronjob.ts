// The CronJob controller (kube-controller-manager's cronjob ControllerV2, Kubernetes 1.32). Each
// reconcile reads the CronJob and the Jobs it controls from the caches, prunes finished Jobs
// beyond the history limits, reconciles status.active with the Jobs (SawCompletedJob,
// MissingJob, lastSuccessfulTime), and — unless suspended, being deleted or misconfigured — starts
// the Job of the most recent unmet schedule time (one only, however many were missed while Skiff
// was down), honouring startingDeadlineSeconds and concurrencyPolicy. The Job is named
// `<cronjob>-<scheduled minutes since the epoch>`, so a retry can never start one twice. It then
// writes the status once and asks to be woken at the next schedule time. Time comes only from
// ctx.clock. Schedule arithmetic is cronjob-schedule.ts's.
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import type { KubeObject, OwnerReference } from '../api/types.js';
import { NAMESPACE_INDEX } from '../client/cache.js';
import type { Client } from '../client/client.js';
import { createEventRecorder, type EventRecorder } from '../client/events.js';
import { rfc3339 } from '../util/clock.js';
import { done, requeueAfter, type ControllerContext, type ControllerDef, type Result } from './controller.js';
import { jobNameFor, nextScheduleDelayMs, nextScheduleTime, parseSchedule, rfc1123z, scheduledTimestamp, timeZoneError, type Schedule, type ScheduleState } from './cronjob-schedule.js';
import { controllerRef } from './pod-control.js';

export const CRONJOBS = resourceFor('batch', 'v1', 'cronjobs');
export const JOBS = resourceFor('batch', 'v1', 'jobs');
/** The events' source component, as kube-controller-manager's. */
export const CRONJOB_COMPONENT = 'cronjob-controller';
export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

type Cj = CronJob & KubeObject;
type J = Job & KubeObject;

const controllerOf = (o: KubeObject): OwnerReference | undefined => o.metadata.ownerReferences?.find((r) => r.controller);

/** A Job's key: its controlling CronJob's. */
function cronJobKeyOfJob(o: KubeObject): string | undefined {
  const ref = controllerOf(o);
  if (ref?.kind !== 'CronJob' || !ref.apiVersion.startsWith('batch/')) return undefined;
  return `${o.metadata.namespace}/${ref.name}`;
}

/** The finished condition (Complete or Failed, status True) of a Job, if any. */
export function finishedCondition(j: Job): 'Complete' | 'Failed' | undefined {
  for (const c of j.status?.conditions ?? []) if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  return undefined;
}

/** byJobStartTime: oldest start first, Jobs not started last, names breaking ties. */
export function byJobStartTime(a: Job, b: Job): number {
  const sa = a.status?.startTime ? Date.parse(a.status.startTime) : undefined;
  const sb = b.status?.startTime ? Date.parse(b.status.startTime) : undefined;
  if (sa === undefined && sb !== undefined) return 1;
  if (sa !== undefined && sb === undefined) return -1;
  if (sa === sb) return (a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : (a.metadata?.name ?? '') > (b.metadata?.name ?? '') ? 1 : 0;
  return (sa ?? 0) - (sb ?? 0);
}

/** The finished Jobs to delete beyond the history limits (oldest first), as cleanupFinishedJobs. */
export function planHistoryPrune(cj: CronJob, jobs: Job[]): Job[] {
  const out: Job[] = [];
  const prune = (list: Job[], limit: number | undefined) => {
    if (limit === undefined || limit === null) return;
    const n = list.length - limit;
    if (n > 0) out.push(...[...list].sort(byJobStartTime).slice(0, n));
  };
  prune(jobs.filter((j) => finishedCondition(j) === 'Complete'), cj.spec?.successfulJobsHistoryLimit);
  prune(jobs.filter((j) => finishedCondition(j) === 'Failed'), cj.spec?.failedJobsHistoryLimit);
  return out;
}

/** getJobFromTemplate2: the Job for `scheduledMs`. */
export function jobFromTemplate(cj: Cj, scheduledMs: number): KubeObject {
  const tm = cj.spec?.jobTemplate?.metadata ?? {};
  const annotations: Record<string, string> = { ...(tm.annotations ?? {}) };
  annotations[SCHEDULED_TIMESTAMP_ANNOTATION] = scheduledTimestamp(scheduledMs, cj.spec?.timeZone ?? undefined);
  const metadata: KubeObject['metadata'] = {
    name: jobNameFor(cj.metadata.name ?? '', scheduledMs),
    namespace: cj.metadata.namespace,
    labels: { ...(tm.labels ?? {}) },
    annotations,
    ownerReferences: [controllerRef({ ...cj, apiVersion: 'batch/v1', kind: 'CronJob' })],
  };
  return { apiVersion: 'batch/v1', kind: 'Job', metadata, spec: structuredClone(cj.spec?.jobTemplate?.spec ?? {}) };
}

const jobRef = (j: KubeObject): ObjectReference => ({
  kind: 'Job',
  namespace: j.metadata.namespace,
  name: j.metadata.name,
  uid: j.metadata.uid,
  apiVersion: 'batch/v1',
  resourceVersion: j.metadata.resourceVersion,
});

const recorders = new WeakMap<Client, EventRecorder>();
function recorderFor(ctx: ControllerContext): EventRecorder {
  let r = recorders.get(ctx.client);
  if (!r) {
    r = createEventRecorder(ctx.client, { component: CRONJOB_COMPONENT, clock: ctx.clock });
    recorders.set(ctx.client, r);
  }
  return r;
}

/** Resolves when every event the CronJob controller recorded through this client was written (tests). */
export async function flushCronJobEvents(client: Client): Promise<void> {
  await recorders.get(client)?.flush();
}

/** One sync: working state of a reconcile (upstream's cronJobCopy and updateStatus). */
interface Sync {
  cj: Cj;
  ev: EventRecorder;
  ctx: ControllerContext;
  dirty: boolean;
}

async function reconcile(key: string, ctx: ControllerContext): Promise<Result> {
  const cached = ctx.informer<Cj>(CRONJOBS).cache.get(key);
  if (!cached) return done();
  const ns = cached.metadata.namespace ?? '';
  const jobs = ctx
    .informer<J>(JOBS)
    .cache.byIndex(NAMESPACE_INDEX, ns)
    .filter((j) => {
      const ref = controllerOf(j);
      return ref !== undefined && ref.name === cached.metadata.name;
    });
  const s: Sync = { cj: { ...structuredClone(cached), apiVersion: 'batch/v1', kind: 'CronJob' }, ev: recorderFor(ctx), ctx, dirty: false };
  s.cj.status ??= {};

  await cleanupFinishedJobs(s, jobs);
  let result: { requeueMs?: number; error?: unknown };
  try {
    result = { requeueMs: await syncCronJob(s, jobs) };
  } catch (e) {
    result = { error: e };
  }
  if (s.dirty) {
    const status = { ...s.cj.status };
    if (status.active && status.active.length === 0) delete status.active;
    await ctx.client.update(CRONJOBS, { ...s.cj, status }, { namespace: ns, subresource: 'status' });
  }
  if (result.requeueMs !== undefined) return requeueAfter(result.requeueMs);
  if (result.error !== undefined) throw result.error;
  return done();
}

async function cleanupFinishedJobs(s: Sync, jobs: J[]): Promise<void> {
  for (const j of planHistoryPrune(s.cj, jobs) as J[]) await deleteJob(s, j);
}

/** deleteJob: deletes the Job (its pods in the background), drops it from status.active. */
async function deleteJob(s: Sync, j: KubeObject): Promise<boolean> {
  try {
    await s.ctx.client.delete(JOBS, j.metadata.name ?? '', { namespace: j.metadata.namespace, propagationPolicy: 'Background' });
  } catch (e) {
    if (!isStatusError(e, 'NotFound')) {
      s.ev.event(s.cj, 'Warning', 'FailedDelete', `Deleted job: ${(e as Error).message}`);
      return false;
    }
  }
  removeActive(s, j.metadata.uid);
  s.ev.event(s.cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name}`);
  s.dirty = true;
  return true;
}

function removeActive(s: Sync, uid: string | undefined): void {
  s.cj.status = { ...s.cj.status, active: (s.cj.status?.active ?? []).filter((r) => r.uid !== uid) };
}
const inActive = (cj: CronJob, uid: string | undefined) => (cj.status?.active ?? []).some((r) => r.uid === uid);

/** syncCronJob: returns the requeue delay (undefined: wait for a change of the CronJob). */
async function syncCronJob(s: Sync, jobs: J[]): Promise<number | undefined> {
  const { ctx, ev } = s;
  const now = ctx.clock.now();
  const children = new Set<string | undefined>();
  for (const j of jobs) {
    children.add(j.metadata.uid);
    const found = inActive(s.cj, j.metadata.uid);
    const finished = finishedCondition(j);
    if (!found && !finished) {
      const fresh = await ctx.client.get<Cj>(CRONJOBS, s.cj.metadata.name ?? '', { namespace: s.cj.metadata.namespace });
      if (inActive(fresh, j.metadata.uid)) {
        s.cj = { ...fresh, apiVersion: 'batch/v1', kind: 'CronJob', status: { ...(fresh.status ?? {}) } };
        continue;
      }
      ev.event(s.cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata.name}`);
    } else if (finished) {
      if (found) {
        removeActive(s, j.metadata.uid);
        ev.event(s.cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${finished}`);
        s.dirty = true;
      }
      const completed = j.status?.completionTime;
      if (finished === 'Complete' && completed) {
        const last = s.cj.status?.lastSuccessfulTime;
        if (!last || Date.parse(completed) > Date.parse(last)) {
          s.cj.status = { ...s.cj.status, lastSuccessfulTime: completed };
          s.dirty = true;
        }
      }
    }
  }
  for (const r of [...(s.cj.status?.active ?? [])]) {
    if (children.has(r.uid)) continue;
    try {
      await ctx.client.get(JOBS, r.name ?? '', { namespace: r.namespace ?? s.cj.metadata.namespace });
    } catch (e) {
      if (!isStatusError(e, 'NotFound')) throw e;
      ev.event(s.cj, 'Normal', 'MissingJob', `Active job went missing: ${r.name}`);
      removeActive(s, r.uid);
      s.dirty = true;
    }
  }
  if (s.cj.metadata.deletionTimestamp) return undefined;

  const spec = s.cj.spec ?? ({} as NonNullable<CronJob['spec']>);
  const tz = spec.timeZone ?? undefined;
  if (tz !== undefined) {
    const err = timeZoneError(tz);
    if (err) {
      ev.event(s.cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(tz)}: ${err}`);
      return undefined;
    }
  }
  if (spec.suspend) return undefined;
  if (spec.schedule.includes('TZ')) {
    ev.event(s.cj, 'Warning', 'UnsupportedSchedule', `CRON_TZ or TZ used in schedule ${JSON.stringify(spec.schedule)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`);
  }
  let sched: Schedule;
  try {
    sched = parseSchedule(spec.schedule, spec.schedule.includes('TZ') ? undefined : tz);
  } catch (e) {
    ev.event(s.cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(spec.schedule)} : ${(e as Error).message}`);
    return undefined;
  }
  const st = (): ScheduleState => ({
    createdMs: Date.parse(s.cj.metadata.creationTimestamp ?? '') || now,
    lastScheduleMs: s.cj.status?.lastScheduleTime ? Date.parse(s.cj.status.lastScheduleTime) : undefined,
    startingDeadlineSeconds: spec.startingDeadlineSeconds ?? undefined,
  });
  const next = nextScheduleTime(st(), now, sched);
  if (next.tooMany) ev.event(s.cj, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
  if (next.error && next.scheduledMs === undefined) {
    ev.event(s.cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${spec.schedule} : ${next.error}`);
    return undefined;
  }
  const requeue = () => nextScheduleDelayMs(st(), now, sched);
  const scheduled = next.scheduledMs;
  if (scheduled === undefined) return requeue();

  if (spec.startingDeadlineSeconds !== undefined && spec.startingDeadlineSeconds !== null && scheduled + spec.startingDeadlineSeconds * 1000 < now) {
    ev.event(s.cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
    return requeue();
  }
  const name = jobNameFor(s.cj.metadata.name ?? '', scheduled);
  const last = s.cj.status?.lastScheduleTime;
  if ((s.cj.status?.active ?? []).some((r) => r.name === name) || (last && Date.parse(last) === scheduled)) return requeue();
  if (spec.concurrencyPolicy === 'Forbid' && (s.cj.status?.active ?? []).length > 0) {
    ev.event(s.cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
    return requeue();
  }
  if (spec.concurrencyPolicy === 'Replace') {
    for (const r of [...(s.cj.status?.active ?? [])]) {
      let job: KubeObject;
      try {
        job = await ctx.client.get(JOBS, r.name ?? '', { namespace: r.namespace ?? s.cj.metadata.namespace });
      } catch (e) {
        ev.event(s.cj, 'Warning', 'FailedGet', `Get job: ${(e as Error).message}`);
        throw e;
      }
      if (!(await deleteJob(s, job))) throw new Error(`could not replace job ${job.metadata.namespace}/${job.metadata.name}`);
    }
  }

  const req = jobFromTemplate(s.cj, scheduled);
  let created: KubeObject;
  let existed = false;
  try {
    created = await ctx.client.create(JOBS, req, { namespace: s.cj.metadata.namespace });
  } catch (e) {
    if (isStatusError(e) && (e.status.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating')) throw e;
    if (!isStatusError(e, 'AlreadyExists')) {
      ev.event(s.cj, 'Warning', 'FailedCreate', `Error creating job: ${(e as Error).message}`);
      throw e;
    }
    existed = true;
    created = await ctx.client.get(JOBS, req.metadata.name ?? '', { namespace: s.cj.metadata.namespace });
    // Someone else's Job of that name, or ours already listed: nothing to record.
    if (controllerOf(created)?.uid !== s.cj.metadata.uid || inActive(s.cj, created.metadata.uid)) return undefined;
  }
  if (!existed) ev.event(s.cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
  s.cj.status = { ...s.cj.status, active: [...(s.cj.status?.active ?? []), jobRef(created)], lastScheduleTime: rfc3339(scheduled) };
  s.dirty = true;
  return requeue();
}

/** The CronJob controller: keys are CronJobs' `namespace/name`; Jobs map to the CronJob that
 *  controls them. */
export function createCronJobController(): ControllerDef {
  return {
    name: 'cronjob',
    watches: [{ rt: CRONJOBS }, { rt: JOBS, keyOf: cronJobKeyOfJob }],
    reconcile,
  };
}

// Tables of the batch/v1 kinds. Jobs: STATUS COMPLETIONS DURATION AGE, the STATUS column as
// Kubernetes 1.30-1.33 computes it (no SuccessCriteriaMet, which arrived in 1.34). CronJobs:
// SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE.
import type { CronJob, Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import type { KubeObject } from '../types.js';
import { doc } from './descriptions.js';
import { humanDuration, parseTime, timestampSince } from './duration.js';
import { AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN, NAME_COLUMN, ageOf, column, formatLabelSelector, layoutContainerCells, nameOf, view, type Printer } from './printer.js';

/** hasJobCondition: the first condition of that type decides. */
function hasJobCondition(conditions: readonly JobCondition[] | undefined, type: string): boolean {
  const c = (conditions ?? []).find((x) => x.type === type);
  return c?.status === 'True';
}

/** The job STATUS cell: Complete, Failed, Terminating, Suspended, FailureTarget or Running. */
export function jobStatus(obj: KubeObject): string {
  const conditions = view<Job>(obj).status?.conditions;
  if (hasJobCondition(conditions, 'Complete')) return 'Complete';
  if (hasJobCondition(conditions, 'Failed')) return 'Failed';
  if (obj.metadata?.deletionTimestamp) return 'Terminating';
  if (hasJobCondition(conditions, 'Suspended')) return 'Suspended';
  if (hasJobCondition(conditions, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

/** COMPLETIONS: `succeeded/completions`; without completions, `succeeded/1` or
 *  `succeeded/1 of parallelism` for a work queue with parallelism above 1. */
export function jobCompletions(job: Job): string {
  const succeeded = job.status?.succeeded ?? 0;
  if (job.spec?.completions !== undefined && job.spec.completions !== null) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

/** DURATION: start to completion, start to `now` while unfinished, empty before the start. */
export function jobDuration(job: Job, now: number): string {
  const start = parseTime(job.status?.startTime);
  if (start === undefined) return '';
  const end = parseTime(job.status?.completionTime);
  return humanDuration((end ?? now) - start);
}

export const jobPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', 'Status of the job.'),
    column('Completions', 'string', doc('JobStatus.succeeded')),
    column('Duration', 'string', 'Time required to complete the job.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    column('Selector', 'string', doc('JobSpec.selector'), { priority: 1 }),
  ],
  print(obj, now) {
    const job = view<Job>(obj);
    const [names, images] = layoutContainerCells(job.spec?.template?.spec?.containers);
    return { cells: [nameOf(obj), jobStatus(obj), jobCompletions(job), jobDuration(job, now), ageOf(obj, now), names, images, formatLabelSelector(job.spec?.selector)] };
  },
};

/** printBoolPtr: `True`, `False`, `<unset>`. */
function boolPtr(v: boolean | undefined): string {
  return v === undefined || v === null ? '<unset>' : v ? 'True' : 'False';
}

export const cronJobPrinter: Printer = {
  columns: [
    NAME_COLUMN,
    column('Schedule', 'string', doc('CronJobSpec.schedule')),
    column('Timezone', 'string', doc('CronJobSpec.timeZone')),
    column('Suspend', 'boolean', doc('CronJobSpec.suspend')),
    column('Active', 'integer', doc('CronJobStatus.active')),
    column('Last Schedule', 'string', doc('CronJobStatus.lastScheduleTime')),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    column('Selector', 'string', doc('JobSpec.selector'), { priority: 1 }),
  ],
  print(obj, now) {
    const cj = view<CronJob>(obj);
    const jobSpec = cj.spec?.jobTemplate?.spec;
    const [names, images] = layoutContainerCells(jobSpec?.template?.spec?.containers);
    const lastSchedule = cj.status?.lastScheduleTime ? timestampSince(cj.status.lastScheduleTime, now) : '<none>';
    return {
      cells: [
        nameOf(obj),
        cj.spec?.schedule ?? '',
        cj.spec?.timeZone ?? '<none>',
        boolPtr(cj.spec?.suspend),
        cj.status?.active?.length ?? 0,
        lastSchedule,
        ageOf(obj, now),
        names,
        images,
        formatLabelSelector(jobSpec?.selector),
      ],
    };
  },
};

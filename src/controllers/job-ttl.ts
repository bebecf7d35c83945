// The TTL-after-finished controller of kube-controller-manager (pkg/controller/ttlafterfinished,
// 1.32): a Job with spec.ttlSecondsAfterFinished is deleted (foreground, guarded by its uid) that
// many seconds after its Complete or Failed condition became True. Until then the key is requeued
// for the moment it expires.
import type { Job } from 'kubernetes-types/batch/v1.js';
import { isStatusError } from '../api/errors.js';
import { done, requeueAfter, type ControllerDef } from './controller.js';
import { JOBS } from './job.js';

/** When a finished job expires (ms), or undefined: no TTL, or not finished. */
export function jobExpiresAt(job: Job): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null || job.metadata?.deletionTimestamp) return undefined;
  const c = (job.status?.conditions ?? []).find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  if (!c) return undefined;
  const finished = Date.parse(c.lastTransitionTime ?? '');
  return (Number.isNaN(finished) ? 0 : finished) + ttl * 1000;
}

/** The ttl-after-finished controller definition, for startController. */
export const jobTtlController: ControllerDef = {
  name: 'ttl-after-finished',
  watches: [{ rt: JOBS }],
  async reconcile(key, ctx) {
    const cached = ctx.informer(JOBS).cache.get(key);
    if (!cached) return done();
    const at = jobExpiresAt(cached as unknown as Job);
    if (at === undefined) return done();
    const left = at - ctx.clock.now();
    if (left > 0) return requeueAfter(left);
    try {
      await ctx.client.delete(JOBS, cached.metadata.name ?? '', { namespace: cached.metadata.namespace, propagationPolicy: 'Foreground', preconditions: { uid: cached.metadata.uid } });
    } catch (e) {
      if (!isStatusError(e, 'NotFound')) throw e;
    }
    return done();
  },
};

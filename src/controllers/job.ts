// The Job controller of kube-controller-manager (pkg/controller/job, 1.32): runs a Job's pods to
// completion. Pods carry the batch.kubernetes.io/job-tracking finalizer; a pod that finished is
// first recorded in status.uncountedTerminatedPods, then loses its finalizer, then moves into the
// succeeded/failed counters — so counts survive pods being deleted. Then, as syncJob: a failure
// (FailJob rule, backoff limit, deadline) sets FailureTarget and deletes the active pods, success
// sets SuccessCriteriaMet; the terminal Failed/Complete condition follows once no pod is left
// running. Otherwise it keeps min(parallelism, remaining) pods active (Indexed: one per pending
// index), with the pod failure back-off, and honours suspend. Pods are claimed as upstream:
// matching orphans adopted, pods that stop matching released. Decisions live in job-plan.ts.
import type { Job, JobStatus } from 'kubernetes-types/batch/v1.js';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { isStatusError } from '../api/errors.js';
import { resourceFor } from '../api/kinds.js';
import { labelSelectorFromObject, matches, type Selector } from '../api/selectors.js';
import type { KubeObject, OwnerReference } from '../api/types.js';
import { NAMESPACE_INDEX, objectCacheKey, type Indexer } from '../client/cache.js';
import type { Client } from '../client/client.js';
import { createEventRecorder, type EventRecorder } from '../client/events.js';
import { rfc3339 } from '../util/clock.js';
import { done, requeueAfter, type ControllerContext, type ControllerDef, type Result } from './controller.js';
import { ControllerExpectations, revisionSeen } from './expectations.js';
import * as plan from './job-plan.js';
import { adoptPod, PODS, podFromTemplate, releasePod } from './pod-control.js';
import { slowStartBatches } from './replicaset-plan.js';

export const JOBS = resourceFor('batch', 'v1', 'jobs');
export const JOB_COMPONENT = 'job-controller';

export interface JobControllerOptions {
  /** The pod failure back-off base (default 10 s) and cap (default 10 min, upstream's MaxJobPodFailureBackOff). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

interface State {
  expectations: ControllerExpectations;
  events: EventRecorder;
  /** The resourceVersion of each Job's last status write: a cache older than that must not be
   *  acted on (its counts are stale; the watch event of the write queues the key again). */
  written: Map<string, string>;
}

const asPod = (o: KubeObject) => o as unknown as Pod;
const controllerOf = (o: KubeObject): OwnerReference | undefined => o.metadata.ownerReferences?.find((r) => r.controller);

/** A Job's selector, or undefined when it does not parse (validation refuses those). */
function selectorOf(job: KubeObject): Selector | undefined {
  try {
    return labelSelectorFromObject((job.spec as Job['spec'])?.selector);
  } catch {
    return undefined;
  }
}

/** MaxUncountedPods: at most this many pods in uncountedTerminatedPods at once (~20 KB). */
const MAX_UNCOUNTED = 500;

/** A new Job controller definition, for startController. Holds state per client: start it once. */
export function createJobController(opts: JobControllerOptions = {}): ControllerDef {
  const states = new WeakMap<Client, State>();
  // Orphans map to every Job of their namespace selecting them; the Job cache is taken from the
  // first reconcile (before that, every Job is queued by its own initial sync anyway).
  let jobCache: Indexer | undefined;
  const jobKeyOfPod = (o: KubeObject): string | string[] | undefined => {
    const ref = controllerOf(o);
    if (ref) return ref.kind === 'Job' && ref.apiVersion.startsWith('batch/') ? `${o.metadata.namespace}/${ref.name}` : undefined;
    if (!jobCache || o.metadata.deletionTimestamp) return undefined;
    return jobCache
      .byIndex(NAMESPACE_INDEX, o.metadata.namespace ?? '')
      .filter((j) => {
        const sel = selectorOf(j);
        return sel !== undefined && matches(sel, o.metadata.labels);
      })
      .map(objectCacheKey);
  };
  const stateFor = (ctx: ControllerContext): State => {
    let s = states.get(ctx.client);
    if (!s) {
      s = { expectations: new ControllerExpectations(ctx.clock), events: createEventRecorder(ctx.client, { component: JOB_COMPONENT, clock: ctx.clock }), written: new Map() };
      states.set(ctx.client, s);
    }
    return s;
  };
  return {
    name: 'job',
    watches: [{ rt: JOBS }, { rt: PODS, keyOf: jobKeyOfPod }],
    reconcile: (key, ctx) => {
      jobCache = ctx.informer(JOBS).cache;
      return syncJob(key, ctx, stateFor(ctx), opts);
    },
  };
}

/** Removes the tracking finalizer from a pod (a JSON patch guarded by the finalizers seen). A pod
 *  gone is fine; a changed one throws for a retry from a fresher cache. */
async function removeFinalizer(client: Client, p: Pod): Promise<void> {
  const fins = p.metadata?.finalizers ?? [];
  if (!fins.includes(plan.JOB_TRACKING_FINALIZER)) return;
  const rest = fins.filter((f) => f !== plan.JOB_TRACKING_FINALIZER);
  const ops = [
    { op: 'test', path: '/metadata/uid', value: p.metadata?.uid },
    { op: 'test', path: '/metadata/finalizers', value: fins },
    rest.length ? { op: 'replace', path: '/metadata/finalizers', value: rest } : { op: 'remove', path: '/metadata/finalizers' },
  ];
  try {
    await client.patch(PODS, p.metadata?.name ?? '', 'json', ops, { namespace: p.metadata?.namespace });
  } catch (e) {
    if (!isStatusError(e, 'NotFound')) throw e;
  }
}

/** deleteJobPods: finalizer off first (a pod the controller deletes is not counted), then delete. */
async function deletePods(client: Client, st: State, key: string, job: KubeObject, pods: Pod[]): Promise<void> {
  await Promise.all(
    pods.map(async (p) => {
      await removeFinalizer(client, p);
      st.expectations.expectDeleted(key, p.metadata?.name ?? '', p.metadata?.uid);
      try {
        await client.delete(PODS, p.metadata?.name ?? '', { namespace: job.metadata.namespace, preconditions: { uid: p.metadata?.uid ?? '' } });
        st.events.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata?.name}`);
      } catch (e) {
        st.expectations.deletionFailed(key, p.metadata?.name ?? '');
        if (!isStatusError(e, 'NotFound')) {
          st.events.event(job, 'Warning', 'FailedDelete', `Error deleting: ${(e as Error).message}`);
          throw e;
        }
      }
    }),
  );
}

/** The pod for one new slot: the template with the tracking finalizer; Indexed adds the index
 *  annotation and label, JOB_COMPLETION_INDEX to every container and the hostname `<job>-<i>`. */
export function podForJob(job: KubeObject, index: number | undefined): KubeObject {
  const spec = job.spec as Job['spec'];
  const pod = podFromTemplate(spec?.template ?? {}, job);
  pod.metadata.finalizers = [...(pod.metadata.finalizers ?? []), plan.JOB_TRACKING_FINALIZER];
  if (index === undefined) return pod;
  const ix = String(index);
  pod.metadata.generateName = `${job.metadata.name}-${ix}-`;
  pod.metadata.annotations = { ...pod.metadata.annotations, [plan.JOB_COMPLETION_INDEX]: ix };
  pod.metadata.labels = { ...pod.metadata.labels, [plan.JOB_COMPLETION_INDEX]: ix };
  const ps = pod.spec as { hostname?: string; containers?: Container[]; initContainers?: Container[] };
  ps.hostname = `${job.metadata.name}-${ix}`;
  for (const c of [...(ps.initContainers ?? []), ...(ps.containers ?? [])]) {
    if ((c.env ?? []).some((e) => e.name === plan.JOB_COMPLETION_INDEX_ENV)) continue;
    c.env = [...(c.env ?? []), { name: plan.JOB_COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${plan.JOB_COMPLETION_INDEX}']` } } }];
  }
  return pod;
}

/** ClaimPods: the pods the Job controls and still selects; matching orphans are adopted (unless the
 *  Job is being deleted), controlled pods that stopped matching are released. */
async function claimPods(client: Client, job: KubeObject, podsInNs: KubeObject[]): Promise<KubeObject[]> {
  const sel = selectorOf(job);
  const out: KubeObject[] = [];
  for (const p of podsInNs) {
    const ref = controllerOf(p);
    const match = sel !== undefined && matches(sel, p.metadata.labels);
    if (ref?.uid === job.metadata.uid) {
      if (match || job.metadata.deletionTimestamp) out.push(p);
      else await releasePod(client, p, job);
    } else if (!ref && match && !p.metadata.deletionTimestamp && !job.metadata.deletionTimestamp && !plan.isFinished(job as unknown as Job)) {
      await adoptPod(client, p, job);
      out.push(p);
    }
  }
  return out;
}

async function writeStatus(client: Client, job: KubeObject, status: JobStatus): Promise<KubeObject> {
  return client.update(JOBS, { ...job, status } as unknown as KubeObject, { subresource: 'status' });
}

async function syncJob(key: string, ctx: ControllerContext, st: State, opts: JobControllerOptions): Promise<Result> {
  const [ns = '', name = ''] = key.split('/');
  const podsInNs = ctx.informer(PODS).cache.byIndex(NAMESPACE_INDEX, ns);
  const cached = ctx.informer(JOBS).cache.get(key);
  if (!cached || cached.metadata.deletionTimestamp) {
    st.expectations.delete(key);
    st.written.delete(key);
    // Pods of a Job that is gone keep no finalizer (upstream does this from the pod handler).
    const orphans = podsInNs.map(asPod).filter((p) => plan.hasFinalizer(p) && controllerOf(p as unknown as KubeObject)?.kind === 'Job' && controllerOf(p as unknown as KubeObject)?.name === name && controllerOf(p as unknown as KubeObject)?.uid !== cached?.metadata.uid);
    await Promise.all(orphans.map((p) => removeFinalizer(ctx.client, p)));
    if (!cached) return done();
  }
  const written = st.written.get(key);
  if (written !== undefined) {
    if (!revisionSeen(cached.metadata.resourceVersion ?? '', written)) return done();
    st.written.delete(key);
  }
  let jobObj: KubeObject = { ...cached, apiVersion: 'batch/v1', kind: 'Job' };
  const job = jobObj as unknown as Job;
  const pods = (await claimPods(ctx.client, jobObj, podsInNs)).map(asPod);
  if (plan.isFinished(job) || cached.metadata.deletionTimestamp) {
    await Promise.all(pods.filter(plan.hasFinalizer).map((p) => removeFinalizer(ctx.client, p)));
    return done();
  }
  const now = ctx.clock.now();
  const nowIso = rfc3339(now);
  const indexed = job.spec?.completionMode === 'Indexed';
  const completions = job.spec?.completions ?? 0;
  const old = job.status ?? {};
  const status: JobStatus = structuredClone(old);
  const unc = { succeeded: [...(old.uncountedTerminatedPods?.succeeded ?? [])], failed: [...(old.uncountedTerminatedPods?.failed ?? [])] };
  const known = new Set([...unc.succeeded, ...unc.failed]);
  const completed = plan.parseIndexes(old.completedIndexes);

  // 1. Newly finished pods into uncountedTerminatedPods.
  let failJobMessage: string | undefined;
  const ignored: Pod[] = [];
  let added = false;
  let more = false;
  for (const p of pods) {
    const uid = p.metadata?.uid ?? '';
    if (!plan.hasFinalizer(p) || known.has(uid)) continue;
    if (unc.succeeded.length + unc.failed.length >= MAX_UNCOUNTED) {
      more = true;
      break;
    }
    if (plan.isSucceeded(p)) {
      if (indexed) {
        const ix = plan.podIndex(p, completions);
        if (ix === undefined || completed.has(ix)) {
          ignored.push(p);
          continue;
        }
        completed.add(ix);
      }
      unc.succeeded.push(uid);
      added = true;
    } else if (plan.isFailed(p, job)) {
      const m = plan.isTerminal(p) ? plan.matchPodFailurePolicy(job, p) : undefined;
      if (m?.action === 'Ignore') {
        ignored.push(p);
        continue;
      }
      if (m?.action === 'FailJob' && !failJobMessage) failJobMessage = m.message;
      unc.failed.push(uid);
      added = true;
    }
  }
  if (indexed) for (const p of pods) if (plan.isSucceeded(p) && unc.succeeded.includes(p.metadata?.uid ?? '')) {
    const ix = plan.podIndex(p, completions);
    if (ix !== undefined) completed.add(ix);
  }
  if (!status.uncountedTerminatedPods) added = true;
  if (added) {
    status.uncountedTerminatedPods = { ...(unc.succeeded.length ? { succeeded: unc.succeeded } : {}), ...(unc.failed.length ? { failed: unc.failed } : {}) };
    if (!status.startTime && !job.spec?.suspend) status.startTime = nowIso;
    jobObj = await writeStatus(ctx.client, jobObj, status);
    st.written.set(key, jobObj.metadata.resourceVersion ?? '');
  }

  // 2. Their finalizers off; 3. they are counted.
  const byUid = new Map(pods.map((p) => [p.metadata?.uid ?? '', p]));
  await Promise.all([...unc.succeeded, ...unc.failed].map((u) => byUid.get(u)).filter((p): p is Pod => !!p).concat(ignored).map((p) => removeFinalizer(ctx.client, p)));
  status.succeeded = (old.succeeded ?? 0) + unc.succeeded.length;
  status.failed = (old.failed ?? 0) + unc.failed.length;
  status.uncountedTerminatedPods = {};
  if (indexed) status.completedIndexes = plan.formatIndexes(completed);
  const counts: plan.Counts = { succeeded: status.succeeded, failed: status.failed, completed };

  let active = pods.filter(plan.isActive);
  const terminating = pods.filter(plan.isTerminating).length;
  let conds = status.conditions ?? [];
  const setCond = (c: plan.CondSpec) => (conds = plan.setCondition(conds, c, nowIso).conditions);
  const needsSync = st.expectations.satisfied(key, { get: (n) => ctx.informer(PODS).cache.get(`${ns}/${n}`), seenRevision: () => ctx.informer(PODS).lastSyncResourceVersion() });
  let wait: number | undefined;
  let created = 0;

  if (!plan.hasTrueCondition(job, 'FailureTarget') && !plan.hasTrueCondition(job, 'SuccessCriteriaMet')) {
    const failure = plan.failureReason(job, active, counts, now, failJobMessage);
    if (failure) setCond({ type: 'FailureTarget', status: 'True', ...failure });
    else if (plan.successCriteriaMet(job, counts, active.length)) setCond({ type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: plan.MSG_COMPLETIONS });
  }
  const failureTarget = conds.find((c) => c.type === 'FailureTarget' && c.status === 'True');
  const successMet = conds.find((c) => c.type === 'SuccessCriteriaMet' && c.status === 'True');
  let terminalEvent: [string, string, string] | undefined;

  if (failureTarget || successMet) {
    if (active.length) await deletePods(ctx.client, st, key, jobObj, active);
    if (active.length === 0 && terminating === 0) {
      if (failureTarget) {
        setCond({ type: 'Failed', status: 'True', reason: failureTarget.reason, message: failureTarget.message });
        terminalEvent = ['Warning', failureTarget.reason ?? '', failureTarget.message ?? ''];
      } else {
        setCond({ type: 'Complete', status: 'True', reason: successMet?.reason, message: successMet?.message });
        status.completionTime = nowIso;
        terminalEvent = ['Normal', 'Completed', 'Job completed'];
      }
    }
    active = [];
  } else if (job.spec?.suspend) {
    if (active.length) await deletePods(ctx.client, st, key, jobObj, active);
    active = [];
    // startTime stays (upstream does not clear it; Kueue does that itself) and is reset on resume.
    if (!plan.hasTrueCondition(job, 'Suspended')) {
      setCond({ type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' });
      st.events.event(jobObj, 'Normal', 'Suspended', 'Job suspended');
    }
  } else {
    if (plan.hasTrueCondition(job, 'Suspended')) {
      setCond({ type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' });
      status.startTime = nowIso;
      st.events.event(jobObj, 'Normal', 'Resumed', 'Job resumed');
    }
    if (!status.startTime) status.startTime = nowIso;
    if (needsSync) {
      const r = await manageActive(ctx.client, st, key, jobObj, job, pods, active, counts, now, opts);
      active = r.active;
      created = r.created;
      wait = r.wait;
    }
    const dl = plan.msUntilDeadline({ ...job, status }, now);
    if (dl !== undefined) wait = Math.min(wait ?? Infinity, dl + 1);
  }

  status.conditions = conds.length ? conds : undefined;
  status.active = active.length + created;
  status.ready = active.filter(plan.isReady).length;
  status.terminating = terminating;
  // int32 fields with omitempty upstream: a zero is not written.
  for (const k of ['active', 'succeeded', 'failed'] as const) if (!status[k]) delete status[k];
  if (JSON.stringify(status) !== JSON.stringify((jobObj as unknown as Job).status ?? {})) {
    const w = await writeStatus(ctx.client, jobObj, status);
    st.written.set(key, w.metadata.resourceVersion ?? '');
  }
  if (terminalEvent) st.events.event(jobObj, terminalEvent[0] as 'Normal' | 'Warning', terminalEvent[1], terminalEvent[2]);
  if (more) return requeueAfter(0);
  return wait !== undefined ? requeueAfter(wait) : done();
}

/** manageJob: deletes pods beyond what is wanted, creates the missing ones (after the pod failure
 *  back-off). Returns the pods now active and when to look again. */
async function manageActive(client: Client, st: State, key: string, jobObj: KubeObject, job: Job, pods: Pod[], active: Pod[], counts: plan.Counts, now: number, opts: JobControllerOptions): Promise<{ active: Pod[]; created: number; wait?: number }> {
  const indexed = job.spec?.completionMode === 'Indexed';
  const completions = job.spec?.completions ?? 0;
  const want = plan.wantActive(job, counts, active.length);
  // Indexed: pods of an invalid, completed or duplicated index go first.
  const excess: Pod[] = [];
  let keep = active;
  if (indexed) {
    const seen = new Set<number>();
    keep = [];
    for (const p of active) {
      const ix = plan.podIndex(p, completions);
      if (ix === undefined || counts.completed.has(ix) || seen.has(ix)) excess.push(p);
      else (seen.add(ix), keep.push(p));
    }
  }
  if (keep.length > want) {
    const ranked = [...keep].sort((a, b) => Number(plan.isReady(a)) - Number(plan.isReady(b)) || (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? ''));
    excess.push(...ranked.slice(0, keep.length - want));
    keep = ranked.slice(keep.length - want);
  }
  if (excess.length) {
    await deletePods(client, st, key, jobObj, excess);
    return { active: keep, created: 0 };
  }
  let missing = want - keep.length;
  if (missing <= 0) return { active: keep, created: 0 };
  const finished = pods.filter(plan.isTerminal).map((p) => ({ failed: !plan.isSucceeded(p), at: plan.finishTime(p) }));
  const backoff = plan.remainingBackoffMs(finished, now, opts.backoffBaseMs, opts.backoffMaxMs);
  if (backoff > 0) return { active: keep, created: 0, wait: backoff };
  missing = Math.min(missing, 500);
  const indexes = indexed ? plan.firstPendingIndexes(completions, counts.completed, new Set(keep.map((p) => plan.podIndex(p, completions) as number)), missing) : [];
  const slots: (number | undefined)[] = indexed ? indexes : Array.from({ length: missing }, () => undefined);
  st.expectations.begin(key);
  let created = 0;
  let ok = 0;
  for (const batch of slowStartBatches(slots.length)) {
    const results = await Promise.allSettled(
      slots.slice(created, created + batch).map(async (ix) => {
        const p = await client.create(PODS, podForJob(jobObj, ix));
        st.expectations.expectCreated(key, p.metadata.name ?? '', p.metadata.resourceVersion ?? '');
        st.events.event(jobObj, 'Normal', 'SuccessfulCreate', `Created pod: ${p.metadata.name}`);
        ok++;
      }),
    );
    created += batch;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      st.events.event(jobObj, 'Warning', 'FailedCreate', `Error creating: ${(failed.reason as Error).message}`);
      throw failed.reason;
    }
  }
  return { active: keep, created: ok };
}

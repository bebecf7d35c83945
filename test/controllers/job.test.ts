// The Job controller against the real API server, no kubelet: the test writes pod phases itself.
// A 5-completion, parallelism-2 job completes; failing pods exhaust the backoff limit; an Indexed
// job's pods carry their index; suspend deletes the active pods and resume brings them back.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { startController, type RunningController } from '../../src/controllers/controller.js';
import { createJobController } from '../../src/controllers/job.js';
import { eventually } from '../support/eventually.js';

const PODS = resourceFor('', 'v1', 'pods');
const JOBS = resourceFor('batch', 'v1', 'jobs');
const EVENTS = resourceFor('', 'v1', 'events');
const ns = 'default';

type Cond = { type: string; status: string; reason?: string; message?: string };
type Status = { active?: number; ready?: number; succeeded?: number; failed?: number; terminating?: number; completedIndexes?: string; startTime?: string; completionTime?: string; conditions?: Cond[]; uncountedTerminatedPods?: object };

const jobOf = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, namespace: ns },
  spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } }, ...spec },
});

describe('Job controller', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let ctl: RunningController;

  const podsOf = async (job: string) => (await c.list(PODS, { namespace: ns, labelSelector: `batch.kubernetes.io/job-name=${job}` })).items;
  const activeOf = async (job: string) => (await podsOf(job)).filter((p) => !p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes((p.status as { phase?: string } | undefined)?.phase ?? ''));
  const statusOf = async (name: string): Promise<Status> => ((await c.get(JOBS, name, { namespace: ns })).status ?? {}) as Status;
  const cond = (s: Status, type: string) => s.conditions?.find((x) => x.type === type);
  const setPhase = async (p: KubeObject, phase: string) => {
    const fresh = await c.get(PODS, p.metadata.name ?? '', { namespace: ns });
    await c.update(PODS, { ...fresh, status: { ...(fresh.status ?? {}), phase } }, { subresource: 'status' });
  };
  const eventsOf = async (name: string) =>
    (await c.list(EVENTS, { namespace: ns })).items
      .filter((e) => (e.involvedObject as { name?: string; kind?: string }).name === name && (e.involvedObject as { kind?: string }).kind === 'Job')
      .map((e) => ({ reason: String(e.reason), message: String(e.message), type: String(e.type) }));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-job-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('test');
    ctl = startController(createJobController({ backoffBaseMs: 20 }), srv.client('job-controller'));
  });
  after(async () => {
    await ctl?.stop();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a 5-completion, parallelism-2 job runs at most 2 pods at once and completes 5/5', async () => {
    const job = await c.create(JOBS, jobOf('five', { completions: 5, parallelism: 2 }));
    for (let round = 0; round < 10 && (await statusOf('five')).succeeded !== 5; round++) {
      await eventually('active pods or completion', async () => (await activeOf('five')).length > 0 || (await statusOf('five')).succeeded === 5);
      const active = await activeOf('five');
      assert.ok(active.length <= 2, `at most parallelism pods active, saw ${active.length}`);
      for (const p of active) await setPhase(p, 'Succeeded');
      await eventually('the successes are counted', async () => (await activeOf('five')).every((p) => !active.some((a) => a.metadata.uid === p.metadata.uid)));
    }
    await eventually('Complete', async () => cond(await statusOf('five'), 'Complete')?.status === 'True');
    const s = await statusOf('five');
    assert.equal(s.succeeded, 5);
    assert.equal(s.failed, undefined, 'zero counters are omitted, as upstream');
    assert.equal(s.active, undefined);
    assert.equal(s.ready, 0);
    assert.equal(s.terminating, 0);
    assert.deepEqual(s.uncountedTerminatedPods, {});
    assert.ok(s.startTime && s.completionTime);
    assert.deepEqual(
      s.conditions?.map((x) => [x.type, x.status, x.reason, x.message]),
      [
        ['SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
        ['Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
      ],
    );
    const pods = await podsOf('five');
    assert.equal(pods.length, 5);
    for (const p of pods) {
      assert.equal(p.metadata.labels?.['batch.kubernetes.io/job-name'], 'five');
      assert.equal(p.metadata.labels?.['job-name'], 'five');
      assert.equal(p.metadata.labels?.['batch.kubernetes.io/controller-uid'], job.metadata.uid);
      assert.equal(p.metadata.labels?.['controller-uid'], job.metadata.uid);
      assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name: 'five', uid: job.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      assert.deepEqual(p.metadata.finalizers ?? [], [], 'the tracking finalizer is removed once counted');
    }
    await eventually('events', async () => {
      const evs = await eventsOf('five');
      return evs.filter((e) => e.reason === 'SuccessfulCreate').length === 5 && evs.some((e) => e.reason === 'Completed' && e.message === 'Job completed');
    });
  });

  test('pods get the tracking finalizer while they run', async () => {
    await c.create(JOBS, jobOf('fin', { completions: 1 }));
    await eventually('a pod', async () => (await activeOf('fin')).length === 1);
    const [p] = await activeOf('fin');
    assert.deepEqual(p?.metadata.finalizers, ['batch.kubernetes.io/job-tracking']);
    assert.equal(p?.metadata.generateName, 'fin-');
    await eventually('status counts it active', async () => (await statusOf('fin')).active === 1);
  });

  test('failing pods exhaust the backoff limit: FailureTarget, then Failed BackoffLimitExceeded', async () => {
    await c.create(JOBS, jobOf('fails', { backoffLimit: 1 }));
    for (let round = 0; round < 10 && !cond(await statusOf('fails'), 'Failed'); round++) {
      await eventually('a pod to fail, or the end', async () => (await activeOf('fails')).length > 0 || !!cond(await statusOf('fails'), 'Failed'));
      for (const p of await activeOf('fails')) await setPhase(p, 'Failed');
      await eventually('the failure counted', async () => (await activeOf('fails')).length === 0 || !!cond(await statusOf('fails'), 'Failed'), 5000).catch(() => undefined);
    }
    await eventually('Failed', async () => cond(await statusOf('fails'), 'Failed')?.status === 'True');
    const s = await statusOf('fails');
    assert.equal(s.failed, 2);
    assert.equal(s.succeeded, undefined);
    assert.equal(s.completionTime, undefined);
    for (const type of ['FailureTarget', 'Failed']) {
      assert.deepEqual([cond(s, type)?.status, cond(s, type)?.reason, cond(s, type)?.message], ['True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit']);
    }
    await eventually('the BackoffLimitExceeded warning', async () => (await eventsOf('fails')).some((e) => e.type === 'Warning' && e.reason === 'BackoffLimitExceeded' && e.message === 'Job has reached the specified backoff limit'));
  });

  test('an Indexed job: one pod per index with the index annotation, label, env and hostname; completedIndexes', async () => {
    await c.create(JOBS, jobOf('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
    await eventually('three pods', async () => (await activeOf('idx')).length === 3);
    const pods = await activeOf('idx');
    const byIndex = new Map(pods.map((p) => [p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'], p]));
    assert.deepEqual([...byIndex.keys()].sort(), ['0', '1', '2']);
    for (const [ix, p] of byIndex) {
      assert.equal(p.metadata.labels?.['batch.kubernetes.io/job-completion-index'], ix);
      assert.equal(p.metadata.generateName, `idx-${ix}-`);
      const spec = p.spec as { hostname?: string; containers: { env?: { name: string; valueFrom?: { fieldRef?: { fieldPath?: string } } }[] }[] };
      assert.equal(spec.hostname, `idx-${ix}`);
      const env = spec.containers[0]?.env?.find((e) => e.name === 'JOB_COMPLETION_INDEX');
      assert.equal(env?.valueFrom?.fieldRef?.fieldPath, "metadata.annotations['batch.kubernetes.io/job-completion-index']");
    }
    await setPhase(byIndex.get('0') as KubeObject, 'Succeeded');
    await setPhase(byIndex.get('2') as KubeObject, 'Succeeded');
    await eventually('indexes 0 and 2 completed', async () => (await statusOf('idx')).completedIndexes === '0,2');
    await setPhase(byIndex.get('1') as KubeObject, 'Succeeded');
    await eventually('Complete', async () => cond(await statusOf('idx'), 'Complete')?.status === 'True');
    const s = await statusOf('idx');
    assert.equal(s.completedIndexes, '0-2');
    assert.equal(s.succeeded, 3);
  });

  test('suspend deletes the active pods and sets Suspended; resume recreates them', async () => {
    await c.create(JOBS, jobOf('susp', { completions: 4, parallelism: 2 }));
    await eventually('two pods', async () => (await activeOf('susp')).length === 2);
    await c.patch(JOBS, 'susp', 'merge', { spec: { suspend: true } }, { namespace: ns });
    await eventually('Suspended and no active pods', async () => {
      const s = await statusOf('susp');
      return cond(s, 'Suspended')?.status === 'True' && !s.active && (await activeOf('susp')).length === 0;
    });
    const s = await statusOf('susp');
    assert.deepEqual([cond(s, 'Suspended')?.reason, cond(s, 'Suspended')?.message], ['JobSuspended', 'Job suspended']);
    assert.equal(s.failed, undefined, 'pods deleted by suspend are not failures');
    const suspendedStart = s.startTime;
    assert.ok(suspendedStart, 'suspending keeps the start time');
    await c.patch(JOBS, 'susp', 'merge', { spec: { suspend: false } }, { namespace: ns });
    await eventually('resumed with two pods', async () => cond(await statusOf('susp'), 'Suspended')?.status === 'False' && (await activeOf('susp')).length === 2);
    const r = await statusOf('susp');
    assert.deepEqual([cond(r, 'Suspended')?.reason, cond(r, 'Suspended')?.message], ['JobResumed', 'Job resumed']);
    assert.ok(r.startTime && r.startTime >= suspendedStart, 'resuming resets the start time');
    await eventually('Suspended and Resumed events', async () => {
      const evs = await eventsOf('susp');
      return evs.some((e) => e.reason === 'Suspended' && e.message === 'Job suspended') && evs.some((e) => e.reason === 'Resumed' && e.message === 'Job resumed');
    });
  });

  test('activeDeadlineSeconds: the job fails with DeadlineExceeded and its pods are deleted', async () => {
    await c.create(JOBS, jobOf('late', { activeDeadlineSeconds: 1, parallelism: 2, completions: 2 }));
    await eventually('two pods', async () => (await activeOf('late')).length === 2);
    await eventually('Failed', async () => cond(await statusOf('late'), 'Failed')?.status === 'True', 10_000);
    const s = await statusOf('late');
    assert.deepEqual([cond(s, 'Failed')?.reason, cond(s, 'Failed')?.message], ['DeadlineExceeded', 'Job was active longer than specified deadline']);
    assert.equal((await activeOf('late')).length, 0);
    assert.equal(s.failed, undefined, 'pods the controller deleted are not failures');
  });

  test('podFailurePolicy: Ignore does not count a disrupted pod; FailJob fails the job at once', async () => {
    await c.create(
      JOBS,
      jobOf('pfp', {
        backoffLimit: 6,
        podFailurePolicy: {
          rules: [
            { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
            { action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } },
          ],
        },
      }),
    );
    await eventually('a pod', async () => (await activeOf('pfp')).length === 1);
    const [first] = await activeOf('pfp');
    const fresh = await c.get(PODS, first?.metadata.name ?? '', { namespace: ns });
    await c.update(PODS, { ...fresh, status: { phase: 'Failed', conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI' }] } }, { subresource: 'status' });
    await eventually('a replacement pod', async () => (await activeOf('pfp')).some((p) => p.metadata.uid !== first?.metadata.uid));
    assert.equal((await statusOf('pfp')).failed, undefined, 'an ignored failure is not counted');
    const [second] = await activeOf('pfp');
    const f2 = await c.get(PODS, second?.metadata.name ?? '', { namespace: ns });
    await c.update(PODS, { ...f2, status: { phase: 'Failed', containerStatuses: [{ name: 'c', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 42 } } }] } }, { subresource: 'status' });
    await eventually('Failed', async () => cond(await statusOf('pfp'), 'Failed')?.status === 'True');
    const s = await statusOf('pfp');
    assert.deepEqual([cond(s, 'Failed')?.reason, cond(s, 'Failed')?.message], ['PodFailurePolicy', `Container c for pod default/${second?.metadata.name} failed with exit code 42 matching FailJob rule at index 1`]);
    assert.equal(s.failed, 1);
  });

  test('restartPolicy OnFailure: container restarts count toward backoffLimit', async () => {
    await c.create(JOBS, { ...jobOf('restarts', { backoffLimit: 2 }), spec: { backoffLimit: 2, template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } } });
    await eventually('a pod', async () => (await activeOf('restarts')).length === 1);
    const [p] = await activeOf('restarts');
    const fresh = await c.get(PODS, p?.metadata.name ?? '', { namespace: ns });
    await c.update(PODS, { ...fresh, status: { phase: 'Running', containerStatuses: [{ name: 'c', image: 'busybox', imageID: '', ready: false, restartCount: 2 }] } }, { subresource: 'status' });
    await eventually('Failed', async () => cond(await statusOf('restarts'), 'Failed')?.status === 'True');
    assert.equal(cond(await statusOf('restarts'), 'Failed')?.reason, 'BackoffLimitExceeded');
  });

  test('a pod deleted by someone else is counted as failed (its finalizer holds it until then) and replaced', async () => {
    await c.create(JOBS, jobOf('evicted', { completions: 1 }));
    await eventually('a pod', async () => (await activeOf('evicted')).length === 1);
    const [p] = await activeOf('evicted');
    await c.delete(PODS, p?.metadata.name ?? '', { namespace: ns });
    await eventually('counted as failed and replaced', async () => (await statusOf('evicted')).failed === 1 && (await activeOf('evicted')).length === 1);
    await eventually('the deleted pod is gone once counted', async () => !(await podsOf('evicted')).some((x) => x.metadata.uid === p?.metadata.uid));
  });

  test('a matching orphan pod is adopted and counts as active; a pod that stops matching is released', async () => {
    await c.create(PODS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', namespace: ns, labels: { app: 'adopt' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const job = await c.create(JOBS, {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'adopt', namespace: ns },
      spec: { manualSelector: true, selector: { matchLabels: { app: 'adopt' } }, parallelism: 1, completions: 1, template: { metadata: { labels: { app: 'adopt' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    await eventually('adopted', async () => (await c.get(PODS, 'stray', { namespace: ns })).metadata.ownerReferences?.[0]?.uid === job.metadata.uid);
    await eventually('counted active', async () => (await statusOf('adopt')).active === 1);
    await ctl.idle();
    assert.deepEqual((await c.list(PODS, { namespace: ns, labelSelector: 'app=adopt' })).items.map((p) => p.metadata.name), ['stray'], 'no pod created beside the adopted one');
    await c.patch(PODS, 'stray', 'merge', { metadata: { labels: { app: 'gone' } } }, { namespace: ns });
    await eventually('released', async () => ((await c.get(PODS, 'stray', { namespace: ns })).metadata.ownerReferences ?? []).length === 0);
    await eventually('a pod of its own', async () => (await c.list(PODS, { namespace: ns, labelSelector: 'app=adopt' })).items.length === 1);
    await c.delete(PODS, 'stray', { namespace: ns });
  });
});

// The CronJob controller against the real API server, its time from a FakeClock (the informers
// keep the real one): an every-minute schedule creates `<name>-<minutes>` Jobs from the template
// at the right times and records them in status; Forbid skips while a Job is active and resumes
// once it completed; Replace deletes the running Job; finished Jobs beyond the history limits are
// pruned oldest first; after downtime only the most recent missed time gets a Job. No Job
// controller runs: the tests write Job status themselves. Each test uses its own CronJob name.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { createInformer } from '../../src/client/informer.js';
import { informerMapKey, startController, stopInformers, type InformerMap, type RunningController } from '../../src/controllers/controller.js';
import { createCronJobController, CRONJOBS, flushCronJobEvents, JOBS, SCHEDULED_TIMESTAMP_ANNOTATION } from '../../src/controllers/cronjob.js';
import { resourceFor } from '../../src/api/kinds.js';
import { FakeClock, rfc3339 } from '../../src/util/clock.js';
import { eventually } from '../support/eventually.js';

const EVENTS = resourceFor('', 'v1', 'events');
const ns = 'default';
const MIN = 60_000;

const cronJob = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name, namespace: ns },
  spec: {
    schedule: '*/1 * * * *',
    jobTemplate: {
      metadata: { labels: { cron: name }, annotations: { note: 'from-template' } },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['date'] }] } } },
    },
    ...spec,
  },
});

type Ref = { name?: string; uid?: string; kind?: string; apiVersion?: string; namespace?: string };
type CjStatus = { active?: Ref[]; lastScheduleTime?: string; lastSuccessfulTime?: string };

describe('CronJob controller', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let ctl: RunningController;
  let clock: FakeClock;
  let informers: InformerMap;

  /** Moves the fake clock; small nudges while waiting let the work queue's (fake-clock)
   *  back-off retries run. */
  const nudge = () => clock.advance(10);
  const jobsOf = async (name: string) =>
    (await c.list(JOBS, { namespace: ns })).items.filter((j) => j.metadata.ownerReferences?.some((r) => r.name === name && r.kind === 'CronJob') && !j.metadata.deletionTimestamp);
  const jobNames = async (name: string) => (await jobsOf(name)).map((j) => j.metadata.name).sort();
  const statusOf = async (name: string) => ((await c.get(CRONJOBS, name, { namespace: ns })).status ?? {}) as CjStatus;
  const eventsOf = async (name: string) => {
    await flushCronJobEvents(srv.client('cronjob-controller'));
    return (await c.list(EVENTS, { namespace: ns })).items
      .filter((e) => (e.involvedObject as { name?: string; kind?: string }).name === name && (e.involvedObject as { kind?: string }).kind === 'CronJob')
      .map((e) => ({ reason: String(e.reason), message: String(e.message), type: String(e.type) }));
  };
  /** Creates the CronJob; returns it and its first schedule time (the minute after creation). */
  const create = async (obj: KubeObject) => {
    const cj = await c.create(CRONJOBS, obj);
    const created = Date.parse(cj.metadata.creationTimestamp ?? '');
    return { cj, first: Math.floor(created / MIN) * MIN + MIN };
  };
  /** Sets the fake clock to `ms` (never backwards). */
  const at = (ms: number) => clock.advance(Math.max(0, ms - clock.now()));
  const finish = async (job: KubeObject, type: 'Complete' | 'Failed', startMs: number) => {
    const fresh = await c.get(JOBS, job.metadata.name ?? '', { namespace: ns });
    const conds: { type: string; status: string; lastProbeTime: string; lastTransitionTime: string; reason: string; message: string }[] = [{ type, status: 'True', lastProbeTime: rfc3339(startMs + 1000), lastTransitionTime: rfc3339(startMs + 1000), reason: type === 'Failed' ? 'BackoffLimitExceeded' : 'Completed', message: '' }];
    if (type === 'Complete') conds.unshift({ type: 'SuccessCriteriaMet', status: 'True', lastProbeTime: rfc3339(startMs + 1000), lastTransitionTime: rfc3339(startMs + 1000), reason: 'CompletionsReached', message: '' });
    else conds.unshift({ type: 'FailureTarget', status: 'True', lastProbeTime: rfc3339(startMs + 1000), lastTransitionTime: rfc3339(startMs + 1000), reason: 'BackoffLimitExceeded', message: '' });
    const status: Record<string, unknown> = { startTime: rfc3339(startMs), conditions: conds, ...(type === 'Complete' ? { completionTime: rfc3339(startMs + 1000), succeeded: 1 } : { failed: 1 }) };
    await c.update(JOBS, { ...fresh, status }, { namespace: ns, subresource: 'status' });
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-cj-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('test');
  });
  // A controller per test, on a fake clock of its own that starts at the real time (the API
  // server stamps creationTimestamp with that). Its informers keep the real clock (their watch
  // timers are not the subject); the work queue and the reconciles use the fake one.
  beforeEach(async () => {
    clock = new FakeClock(Date.now());
    const client = srv.client('cronjob-controller');
    informers = new Map();
    for (const rt of [CRONJOBS, JOBS]) informers.set(informerMapKey(rt), createInformer(client, rt));
    ctl = startController(createCronJobController(), client, { clock, informers });
    await ctl.idle();
  });
  afterEach(async () => {
    await ctl?.stop();
    if (informers) stopInformers(informers);
  });
  after(async () => {
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an every-minute schedule creates <name>-<minutes> Jobs from the template and records them', async () => {
    const { cj, first } = await create(cronJob('tick'));
    assert.deepEqual(await jobNames('tick'), []);
    at(first + 1000);
    const n1 = `tick-${first / MIN}`;
    await eventually('the first Job', async () => (nudge(), (await jobNames('tick')).length === 1));
    assert.deepEqual(await jobNames('tick'), [n1]);
    const job = (await jobsOf('tick'))[0];
    assert.ok(job);
    assert.equal(job.metadata.labels?.cron, 'tick');
    assert.equal(job.metadata.annotations?.note, 'from-template');
    assert.equal(job.metadata.annotations?.[SCHEDULED_TIMESTAMP_ANNOTATION], rfc3339(first));
    assert.deepEqual(job.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    await eventually('status lists the Job', async () => (nudge(), (await statusOf('tick')).active?.length === 1));
    const st = await statusOf('tick');
    assert.equal(st.lastScheduleTime, rfc3339(first));
    assert.equal(st.active?.[0]?.name, n1);
    assert.equal(st.active?.[0]?.uid, job.metadata.uid);

    at(first + MIN + 1000);
    await eventually('the second Job (Allow: the first still runs)', async () => (nudge(), (await jobNames('tick')).length === 2));
    assert.deepEqual(await jobNames('tick'), [n1, `tick-${first / MIN + 1}`].sort());
    await eventually('both active', async () => (nudge(), (await statusOf('tick')).active?.length === 2));
    await eventually('SuccessfulCreate events', async () => (await eventsOf('tick')).filter((e) => e.reason === 'SuccessfulCreate').length === 2);
    const msgs = (await eventsOf('tick')).filter((e) => e.reason === 'SuccessfulCreate').map((e) => e.message).sort();
    assert.deepEqual(msgs, [`Created job ${n1}`, `Created job tick-${first / MIN + 1}`].sort());
  });

  test('Forbid skips a run while a Job is active, and resumes once it completed', async () => {
    const { first } = await create(cronJob('forbid', { concurrencyPolicy: 'Forbid' }));
    at(first + 1000);
    await eventually('the first Job is active', async () => (nudge(), (await statusOf('forbid')).active?.length === 1));
    at(first + MIN + 1000);
    await eventually('JobAlreadyActive', async () => (nudge(), (await eventsOf('forbid')).some((e) => e.reason === 'JobAlreadyActive')));
    assert.deepEqual(await jobNames('forbid'), [`forbid-${first / MIN}`]);
    const ev = (await eventsOf('forbid')).find((e) => e.reason === 'JobAlreadyActive');
    assert.equal(ev?.message, 'Not starting job because prior execution is running and concurrency policy is Forbid');

    // Once it completed, the run it skipped (no starting deadline) starts at once, as upstream.
    const running = (await jobsOf('forbid'))[0];
    assert.ok(running);
    await finish(running, 'Complete', first + 1000);
    const n2 = `forbid-${first / MIN + 1}`;
    await eventually('the skipped run starts', async () => (nudge(), (await statusOf('forbid')).active?.map((r) => r.name).join() === n2));
    assert.equal((await statusOf('forbid')).lastSuccessfulTime, rfc3339(first + 2000));
    assert.equal((await statusOf('forbid')).lastScheduleTime, rfc3339(first + MIN));
    await eventually('SawCompletedJob', async () => (await eventsOf('forbid')).some((e) => e.reason === 'SawCompletedJob' && e.message === `Saw completed job: forbid-${first / MIN}, condition: Complete`));
    assert.deepEqual(await jobNames('forbid'), [`forbid-${first / MIN}`, n2].sort());
  });

  test('Replace deletes the running Job and starts the new one', async () => {
    const { first } = await create(cronJob('replace', { concurrencyPolicy: 'Replace' }));
    at(first + 1000);
    await eventually('the first Job is active', async () => (nudge(), (await statusOf('replace')).active?.length === 1));
    at(first + MIN + 1000);
    const n2 = `replace-${first / MIN + 1}`;
    await eventually('only the new Job remains', async () => (nudge(), JSON.stringify(await jobNames('replace')) === JSON.stringify([n2])));
    await eventually('status lists only the new one', async () => (nudge(), (await statusOf('replace')).active?.map((r) => r.name).join() === n2));
    const evs = await eventsOf('replace');
    assert.ok(evs.some((e) => e.reason === 'SuccessfulDelete' && e.message === `Deleted job replace-${first / MIN}`));
  });

  test('finished Jobs beyond the history limits are pruned, oldest first', async () => {
    // Suspended: no runs of its own; the Jobs are made by hand, as its own.
    const { cj, first } = await create(cronJob('hist', { suspend: true, successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }));
    const owner = [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'hist', uid: cj.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }];
    const spec = (cronJob('hist').spec as { jobTemplate: { spec: object } }).jobTemplate.spec;
    const made: [string, 'Complete' | 'Failed', number][] = [['hist-ok-1', 'Complete', 1], ['hist-ok-2', 'Complete', 2], ['hist-ok-3', 'Complete', 3], ['hist-bad-1', 'Failed', 1], ['hist-bad-2', 'Failed', 2]];
    for (const [name, type, k] of made) {
      const j = await c.create(JOBS, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: ns, ownerReferences: owner, labels: { cron: 'hist' } }, spec: structuredClone(spec) });
      await finish(j, type, first - 10 * MIN + k * MIN);
    }
    await eventually('pruned to the limits', async () => (nudge(), (await jobNames('hist')).join() === ['hist-bad-2', 'hist-ok-2', 'hist-ok-3'].join()));
    await eventually('SuccessfulDelete events', async () => (await eventsOf('hist')).filter((e) => e.reason === 'SuccessfulDelete').length === 2);
    const msgs = (await eventsOf('hist')).filter((e) => e.reason === 'SuccessfulDelete').map((e) => e.message).sort();
    assert.deepEqual(msgs, ['Deleted job hist-bad-1', 'Deleted job hist-ok-1']);
    assert.equal((await statusOf('hist')).lastSuccessfulTime, rfc3339(first - 7 * MIN + 1000));
  });

  test('after downtime, only the most recent missed time gets a Job', async () => {
    const { first } = await create(cronJob('late'));
    // Ten schedule times pass in one step, as if the controller had been down.
    at(first + 9 * MIN + 5000);
    await eventually('one Job', async () => (nudge(), (await jobNames('late')).length === 1));
    await eventually('status', async () => (nudge(), (await statusOf('late')).lastScheduleTime === rfc3339(first + 9 * MIN)));
    assert.deepEqual(await jobNames('late'), [`late-${first / MIN + 9}`]);
  });

  test('more than 100 missed times: a warning, and still one Job for the most recent', async () => {
    const { first } = await create(cronJob('many'));
    at(first + 150 * MIN + 5000);
    await eventually('one Job', async () => (nudge(), (await jobNames('many')).length === 1));
    assert.deepEqual(await jobNames('many'), [`many-${first / MIN + 150}`]);
    await eventually('TooManyMissedTimes', async () => (await eventsOf('many')).some((e) => e.reason === 'TooManyMissedTimes'));
    const e = (await eventsOf('many')).find((x) => x.reason === 'TooManyMissedTimes');
    assert.equal(e?.message, 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    assert.equal(e?.type, 'Warning');
  });

  test('startingDeadlineSeconds: a run later than the deadline is skipped, the next one starts', async () => {
    const { first } = await create(cronJob('deadline', { schedule: '@hourly', startingDeadlineSeconds: 10 }));
    const hour = Math.ceil(first / 3_600_000) * 3_600_000;
    at(hour - 1000);
    at(hour + 60_000);
    await ctl.idle();
    nudge();
    await ctl.idle();
    assert.deepEqual(await jobNames('deadline'), []);
    // Inside the deadline of the next hour it does start.
    at(hour + 3_600_000 + 5000);
    await eventually('the next hour starts', async () => (nudge(), (await jobNames('deadline')).length === 1));
    assert.deepEqual(await jobNames('deadline'), [`deadline-${(hour + 3_600_000) / MIN}`]);
  });
});

// ttlSecondsAfterFinished against the real API server: with the Job controller and the garbage
// collector running, a completed Job with a TTL of 0 is deleted together with its pods; one
// without a TTL stays.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Job } from 'kubernetes-types/batch/v1.js';
import { isStatusError } from '../../src/api/errors.js';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { startController, type RunningController } from '../../src/controllers/controller.js';
import { garbageCollector } from '../../src/controllers/garbage-collector.js';
import { createJobController } from '../../src/controllers/job.js';
import { jobExpiresAt, jobTtlController } from '../../src/controllers/job-ttl.js';
import { eventually } from '../support/eventually.js';

const PODS = resourceFor('', 'v1', 'pods');
const JOBS = resourceFor('batch', 'v1', 'jobs');
const ns = 'default';

const jobOf = (name: string, ttl?: number): KubeObject => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name, namespace: ns },
  spec: { ...(ttl === undefined ? {} : { ttlSecondsAfterFinished: ttl }), template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
});

test('jobExpiresAt: finish time plus the TTL, only for finished jobs with a TTL', () => {
  const at = '2026-01-01T00:00:00Z';
  const finished = (ttl?: number, type = 'Complete'): Job => ({ spec: { template: {}, ttlSecondsAfterFinished: ttl }, status: { conditions: [{ type, status: 'True', lastTransitionTime: at }] } });
  assert.equal(jobExpiresAt(finished(10)), Date.parse(at) + 10_000);
  assert.equal(jobExpiresAt(finished(0, 'Failed')), Date.parse(at));
  assert.equal(jobExpiresAt(finished(undefined)), undefined);
  assert.equal(jobExpiresAt(finished(10, 'SuccessCriteriaMet')), undefined);
});

describe('ttl-after-finished controller', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let ctls: RunningController[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-jobttl-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('test');
    ctls = [startController(createJobController(), srv.client('job-controller')), startController(jobTtlController, srv.client('ttl')), startController(garbageCollector, srv.client('gc'))];
  });
  after(async () => {
    for (const ctl of ctls) await ctl.stop();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const finish = async (name: string) => {
    await eventually('a pod', async () => (await c.list(PODS, { namespace: ns, labelSelector: `job-name=${name}` })).items.length === 1);
    const [p] = (await c.list(PODS, { namespace: ns, labelSelector: `job-name=${name}` })).items;
    await c.update(PODS, { ...(p as KubeObject), status: { phase: 'Succeeded' } }, { subresource: 'status' });
  };

  test('a finished job with ttlSecondsAfterFinished 0 is deleted with its pods; one without a TTL stays', async () => {
    await c.create(JOBS, jobOf('keep'));
    await c.create(JOBS, jobOf('ttl0', 0));
    await finish('keep');
    await finish('ttl0');
    await eventually('the TTL job and its pods are gone', async () => {
      const gone = await c.get(JOBS, 'ttl0', { namespace: ns }).then(() => false, (e: unknown) => isStatusError(e, 'NotFound'));
      return gone && (await c.list(PODS, { namespace: ns, labelSelector: 'job-name=ttl0' })).items.length === 0;
    });
    await eventually('the other job completes', async () => ((await c.get(JOBS, 'keep', { namespace: ns })).status as Job['status'])?.conditions?.some((x) => x.type === 'Complete') === true);
    assert.equal((await c.get(JOBS, 'keep', { namespace: ns })).metadata.deletionTimestamp, undefined);
  });
});

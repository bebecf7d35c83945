// The pod failure back-off against the real API server, on a fake clock: after a failure no pod is
// created until 10 s have passed since the pod finished, after the second failure 20 s.
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
import { FakeClock, rfc3339 } from '../../src/util/clock.js';
import { eventually } from '../support/eventually.js';

const PODS = resourceFor('', 'v1', 'pods');
const JOBS = resourceFor('batch', 'v1', 'jobs');
const ns = 'default';

describe('Job pod failure back-off', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let ctl: RunningController;
  const clock = new FakeClock(Date.parse('2026-03-01T00:00:00Z'));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-jobbackoff-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('test');
    ctl = startController(createJobController(), srv.client('job-controller'), { clock });
  });
  after(async () => {
    await ctl?.stop();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const active = async () => (await c.list(PODS, { namespace: ns, labelSelector: 'job-name=retry' })).items.filter((p) => (p.status as { phase?: string } | undefined)?.phase !== 'Failed');
  const failed = async () => ((await c.get(JOBS, 'retry', { namespace: ns })).status as { failed?: number } | undefined)?.failed ?? 0;
  const failPod = async (p: KubeObject) => {
    const status = { phase: 'Failed', containerStatuses: [{ name: 'c', image: 'busybox', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, finishedAt: rfc3339(clock.now()) } } }] };
    await c.update(PODS, { ...p, status }, { subresource: 'status' });
  };

  test('10 s after the first failure, 20 s after the second', async () => {
    await c.create(JOBS, { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'retry', namespace: ns }, spec: { backoffLimit: 6, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } });
    for (const [n, backoffS] of [[1, 10], [2, 20]] as const) {
      await eventually('a pod', async () => (await active()).length === 1);
      const [p] = await active();
      await failPod(p as KubeObject);
      await eventually('the failure counted', async () => (await failed()) === n);
      await ctl.idle();
      assert.equal((await active()).length, 0, 'no new pod during the back-off');
      clock.advance((backoffS - 1) * 1000);
      await ctl.idle();
      assert.equal((await active()).length, 0, `still none ${backoffS - 1} s later`);
      clock.advance(1000);
      await eventually(`a new pod after ${backoffS} s`, async () => (await active()).length === 1);
    }
  });
});

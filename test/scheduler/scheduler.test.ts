// The scheduler against the real API server: pods get bound through pods/binding with a
// Scheduled event; a pod that fits nowhere gets PodScheduled=False and a FailedScheduling
// event whose repeats fold into a count; it is bound once a node that fits appears; pods for
// another scheduler and pods with spec.nodeName are left alone; assumed pods count at once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';

const PODS = resourceFor('', 'v1', 'pods');
const NODES = resourceFor('', 'v1', 'nodes');
const EVENTS = resourceFor('', 'v1', 'events');

const node = (name: string, cpu: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
  status: { capacity: { cpu, memory: '8Gi', pods: '110' }, allocatable: { cpu, memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
});

const pod = (name: string, cpu = '100m', spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu } } }], ...spec },
});

async function until<T>(f: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('scheduler against the API server', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let scheduler: Scheduler;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-sched-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('test');
    await c.create(NODES, node('small-a', '1'));
    await c.create(NODES, node('small-b', '1', { disk: 'ssd' }));
    scheduler = new Scheduler(srv.client('default-scheduler'), { random: () => 0, initialBackoffMs: 50, maxBackoffMs: 200 });
    await scheduler.start();
  });
  after(async () => {
    await scheduler?.stop();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const nodeOf = (name: string) =>
    until(async () => ((await c.get(PODS, name, { namespace: 'default' })).spec as { nodeName?: string }).nodeName || undefined);

  test('a pod is bound, and a Scheduled event says where', async () => {
    await c.create(PODS, pod('web', '100m', { nodeSelector: { disk: 'ssd' } }));
    assert.equal(await nodeOf('web'), 'small-b');
    const p = await c.get(PODS, 'web', { namespace: 'default' });
    const cond = (p.status as { conditions: { type: string; status: string }[] }).conditions.find((x) => x.type === 'PodScheduled');
    assert.equal(cond?.status, 'True');
    await scheduler.flushEvents();
    const evs = await c.list(EVENTS, { namespace: 'default', fieldSelector: 'involvedObject.name=web,reason=Scheduled' });
    assert.equal(evs.items[0]?.message, 'Successfully assigned default/web to small-b');
    assert.deepEqual(evs.items[0]?.source, { component: 'default-scheduler' });
  });

  test('a pod that fits nowhere says why, and is bound once a node that fits joins', async () => {
    await c.create(PODS, pod('big', '4'));
    const message = await until(async () => {
      const p = await c.get(PODS, 'big', { namespace: 'default' });
      const cond = (p.status as { conditions?: { type: string; reason?: string; message?: string }[] }).conditions?.find((x) => x.type === 'PodScheduled');
      return cond?.reason === 'Unschedulable' ? cond.message : undefined;
    });
    assert.equal(message, '0/2 nodes are available: 2 Insufficient cpu.');
    await scheduler.flushEvents();
    const evs = await c.list(EVENTS, { namespace: 'default', fieldSelector: 'involvedObject.name=big,reason=FailedScheduling' });
    assert.equal(evs.items.length, 1);
    assert.equal(evs.items[0]?.type, 'Warning');
    assert.equal(evs.items[0]?.message, message);

    await c.create(NODES, node('large', '8'));
    assert.equal(await nodeOf('big'), 'large');
  });

  test('the unschedulable pod is retried on cluster events, and repeats fold into one event with a count', async () => {
    await c.create(PODS, pod('huge', '64'));
    await until(async () => (scheduler.stats.unschedulableAttempts > 0 ? true : undefined));
    const before = scheduler.stats.unschedulableAttempts;
    await c.patch(NODES, 'small-a', 'merge', { metadata: { labels: { touched: 'yes' } } });
    await until(async () => (scheduler.stats.unschedulableAttempts > before ? true : undefined));
    await scheduler.flushEvents();
    const evs = await c.list(EVENTS, { namespace: 'default', fieldSelector: 'involvedObject.name=huge,reason=FailedScheduling' });
    assert.equal(evs.items.length, 1, 'one Event object');
    assert.ok((evs.items[0] as KubeObject & { count: number }).count >= 2, 'with a count');
  });

  test('pods for another scheduler, and pods already naming a node, are left alone', async () => {
    await c.create(PODS, pod('mine-not', '100m', { schedulerName: 'other' }));
    await c.create(PODS, pod('pinned', '100m', { nodeName: 'small-a' }));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(((await c.get(PODS, 'mine-not', { namespace: 'default' })).spec as { nodeName?: string }).nodeName, undefined);
    assert.equal(((await c.get(PODS, 'pinned', { namespace: 'default' })).spec as { nodeName?: string }).nodeName, 'small-a');
  });

  test('pods created together never overcommit a node: assumed pods count at once', async () => {
    await c.create(NODES, node('tight', '1', { pool: 'tight' }));
    for (let i = 0; i < 4; i++) await c.create(PODS, pod(`t-${i}`, '400m', { nodeSelector: { pool: 'tight' } }));
    const bound = await until(async () => {
      const list = await c.list(PODS, { namespace: 'default' });
      const on = list.items.filter((p) => (p.spec as { nodeName?: string }).nodeName === 'tight');
      return on.length >= 2 ? on : undefined;
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(bound.length, 2, 'two of 400m fit in 1 CPU; the third and fourth wait');
    const list = await c.list(PODS, { namespace: 'default' });
    assert.equal(list.items.filter((p) => (p.spec as { nodeName?: string }).nodeName === 'tight').length, 2);
  });
});

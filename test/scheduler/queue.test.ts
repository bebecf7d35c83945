// The scheduling queue: priority order, backoff doubling, unschedulable pods waiting for a
// cluster event, updates while a pod is being scheduled, deletion.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Pod } from '../../src/scheduler/framework.js';
import { SchedulingQueue } from '../../src/scheduler/queue.js';
import { failureMessage, feasibleNodesToFind, NO_NODES_MESSAGE } from '../../src/scheduler/diagnosis.js';
import { FakeClock } from '../../src/util/clock.js';

const pod = (name: string, priority = 0, extra: Partial<Pod['spec']> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c' }], priority, ...extra },
});

describe('scheduling queue', () => {
  test('higher priority pods come out first, then the oldest', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue({ clock });
    q.add(pod('low-old', 0));
    clock.advance(1);
    q.add(pod('high', 10));
    clock.advance(1);
    q.add(pod('low-new', 0));
    const order = [];
    for (let i = 0; i < 3; i++) {
      const x = (await q.pop())!;
      order.push(x.pod.metadata.name);
      q.done(x);
    }
    assert.deepEqual(order, ['high', 'low-old', 'low-new']);
    q.close();
  });

  test('an unschedulable pod waits for a cluster event, not for time', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue({ clock, initialBackoffMs: 1000 });
    q.add(pod('big'));
    const x = (await q.pop())!;
    q.addUnschedulable(x, false);
    clock.advance(60_000);
    assert.deepEqual(q.sizes(), { active: 0, backoff: 0, unschedulable: 1 });
    q.moveAllToActiveOrBackoff();
    assert.equal(q.sizes().active, 1, 'its backoff was long over, so it is active at once');
    q.close();
  });

  test('a pod that failed just now goes to backoff, doubling per attempt up to the cap', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue({ clock, initialBackoffMs: 1000, maxBackoffMs: 4000 });
    q.add(pod('flaky'));
    const waits: number[] = [];
    for (let attempt = 0; attempt < 4; attempt++) {
      const x = (await q.pop())!;
      q.addUnschedulable(x, true); // something changed meanwhile: straight to backoff
      let waited = 0;
      while (q.sizes().active === 0) {
        clock.advance(500);
        waited += 500;
      }
      waits.push(waited);
    }
    assert.deepEqual(waits, [1000, 2000, 4000, 4000]);
    q.close();
  });

  test('an update that arrives while the pod is being scheduled is kept, a deletion wins', async () => {
    const clock = new FakeClock();
    const q = new SchedulingQueue({ clock });
    q.add(pod('p'));
    const x = (await q.pop())!;
    q.add(pod('p', 0, { nodeSelector: { disk: 'ssd' } }));
    q.addUnschedulable(x, false);
    q.moveAllToActiveOrBackoff();
    clock.advance(20_000);
    const y = (await q.pop())!;
    assert.deepEqual(y.pod.spec?.nodeSelector, { disk: 'ssd' });
    q.delete(y.pod);
    q.addUnschedulable(y, false);
    assert.deepEqual(q.sizes(), { active: 0, backoff: 0, unschedulable: 0 });
    q.close();
  });

  test('closing the queue releases a waiting pop', async () => {
    const q = new SchedulingQueue({ clock: new FakeClock() });
    const waiting = q.pop();
    q.close();
    assert.equal(await waiting, undefined);
  });
});

describe('failure messages and sampling', () => {
  const cases: [string, number, [string, number][], string][] = [
    ['reasons are counted and sorted as Kubernetes prints them', 3, [['Insufficient cpu', 2], ['node(s) had untolerated taint {dedicated: db}', 1]], '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 2 Insufficient cpu.'],
    ['a single reason', 3, [['Insufficient cpu', 3]], '0/3 nodes are available: 3 Insufficient cpu.'],
    ['no nodes at all', 0, [], NO_NODES_MESSAGE],
  ];
  for (const [name, n, reasons, want] of cases) test(name, () => assert.equal(failureMessage(n, new Map(reasons)), want));

  test('small clusters are searched whole; large ones by upstream\'s adaptive percentage', () => {
    assert.equal(feasibleNodesToFind(50, 0), 50);
    assert.equal(feasibleNodesToFind(500, 0), 230); // 50 - 500/125 = 46%
    assert.equal(feasibleNodesToFind(5000, 0), 500); // 50 - 40 = 10%
    assert.equal(feasibleNodesToFind(100_000, 0), 5000); // at least 5%
    assert.equal(feasibleNodesToFind(5000, 100), 5000);
  });
});

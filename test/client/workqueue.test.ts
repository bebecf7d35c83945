import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/util/clock.js';
import { createWorkQueue, exponentialRateLimiter } from '../../src/client/workqueue.js';

/** Whether the promise has settled once pending microtasks ran. */
async function settled<T>(p: Promise<T>): Promise<{ done: boolean; value?: T }> {
  let out: { done: boolean; value?: T } = { done: false };
  void p.then((value) => (out = { done: true, value }));
  await new Promise((r) => setImmediate(r));
  return out;
}

test('a key added twice while queued is handed out once', async () => {
  const q = createWorkQueue({ clock: new FakeClock() });
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.len(), 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(q.len(), 0);
});

test('a key added while being processed is queued again only after done', async () => {
  const q = createWorkQueue({ clock: new FakeClock() });
  q.add('a');
  const k = await q.get();
  q.add('a');
  q.add('a');
  assert.equal(q.len(), 0, 'the key is not handed to a second worker while held');
  const second = q.get();
  assert.equal((await settled(second)).done, false);
  q.done(k as string);
  assert.equal(await second, 'a', 'it comes back once, after done');
  q.done('a');
  assert.equal(q.len(), 0);
});

test('a waiting get receives the next added key', async () => {
  const q = createWorkQueue({ clock: new FakeClock() });
  const p = q.get();
  q.add('x');
  assert.equal(await p, 'x');
});

test('addAfter adds the key when the clock reaches the delay, keeping the earliest', async () => {
  const clock = new FakeClock();
  const q = createWorkQueue({ clock });
  q.addAfter('a', 100);
  q.addAfter('a', 50);
  q.addAfter('a', 500);
  clock.advance(49);
  assert.equal(q.len(), 0);
  clock.advance(1);
  assert.equal(q.len(), 1);
  clock.advance(1000);
  assert.equal(q.len(), 1, 'the later delays were merged into the earliest');
  assert.equal(await q.get(), 'a');
});

test('rate-limited adds back off exponentially per key and forget resets them', async (t) => {
  const cases: [string, number, number][] = [
    ['the first failure waits the 5 ms base', 0, 5],
    ['the second failure waits twice as long', 1, 10],
    ['the fifth failure waits 80 ms', 4, 80],
    ['the backoff is capped at 1000 seconds', 40, 1_000_000],
  ];
  for (const [name, failures, delay] of cases) {
    await t.test(name, () => {
      const limiter = exponentialRateLimiter<string>();
      for (let i = 0; i < failures; i++) limiter.when('k');
      assert.equal(limiter.when('k'), delay);
    });
  }
  await t.test('the queue waits the backoff before handing the key out again', async () => {
    const clock = new FakeClock();
    const q = createWorkQueue({ clock });
    q.addRateLimited('k');
    q.addRateLimited('other');
    assert.equal(q.numRequeues('k'), 1);
    clock.advance(4);
    assert.equal(q.len(), 0);
    clock.advance(1);
    assert.equal(q.len(), 2);
    assert.equal(await q.get(), 'k');
    q.done('k');
    q.addRateLimited('k');
    clock.advance(9);
    assert.equal(q.len(), 1, 'only "other" is ready: k now waits 10 ms');
    clock.advance(1);
    assert.equal(q.len(), 2);
    q.forget('k');
    assert.equal(q.numRequeues('k'), 0);
    assert.equal(q.numRequeues('other'), 1, 'counts are per key');
    q.shutDown();
  });
});

test('shutDown wakes waiting workers, drops queued keys and cancels delayed ones', async () => {
  const clock = new FakeClock();
  const q = createWorkQueue({ clock });
  const waiting = q.get();
  q.shutDown();
  assert.equal(await waiting, undefined);

  const q2 = createWorkQueue({ clock });
  q2.add('a');
  q2.addAfter('b', 10);
  q2.shutDown();
  assert.equal(await q2.get(), undefined);
  q2.add('c');
  clock.advance(100);
  assert.equal(q2.len(), 0, 'nothing enters a shut-down queue, not even a delayed key');
  assert.equal(q2.isShuttingDown(), true);
  q2.shutDown();
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock, type Clock } from '../../src/util/clock.js';
import { TimerQueue } from '../../src/util/timer-queue.js';

/** A FakeClock that counts the runtime timers armed on it and not yet fired or cancelled. */
function counted(): { clock: FakeClock; armed: () => number } {
  const clock = new FakeClock();
  let armed = 0;
  const inner = clock.setTimeout.bind(clock);
  (clock as Clock).setTimeout = (fn, ms) => {
    armed++;
    let live = true;
    const h = inner(() => {
      if (live) armed--;
      live = false;
      fn();
    }, ms);
    return { cancel: () => void (live && (armed--, (live = false)), h.cancel()) };
  };
  return { clock, armed: () => armed };
}

test('callbacks run in deadline order, ties in the order they were scheduled', () => {
  const { clock } = counted();
  const q = new TimerQueue(clock);
  const ran: string[] = [];
  q.scheduleIn(30, () => ran.push('c'));
  q.scheduleIn(10, () => ran.push('a'));
  q.scheduleIn(20, () => ran.push('b1'));
  q.scheduleIn(20, () => ran.push('b2'));
  clock.advance(15);
  assert.deepEqual(ran, ['a']);
  clock.advance(100);
  assert.deepEqual(ran, ['a', 'b1', 'b2', 'c']);
});

test('one runtime timer is armed however many deadlines wait', () => {
  const { clock, armed } = counted();
  const q = new TimerQueue(clock);
  for (let i = 0; i < 1000; i++) q.scheduleIn(1000 - i, () => {});
  assert.equal(armed(), 1);
  assert.equal(q.size(), 1000);
});

test('a cancelled callback never runs', () => {
  const { clock } = counted();
  const q = new TimerQueue(clock);
  const ran: string[] = [];
  const h = q.scheduleIn(10, () => ran.push('x'));
  q.scheduleIn(20, () => ran.push('y'));
  h.cancel();
  clock.advance(50);
  assert.deepEqual(ran, ['y']);
});

test('a callback may schedule another, which runs when its time comes', () => {
  const { clock } = counted();
  const q = new TimerQueue(clock);
  const ran: number[] = [];
  q.scheduleIn(10, () => {
    ran.push(clock.now());
    q.scheduleIn(10, () => ran.push(clock.now()));
  });
  const t0 = clock.now();
  clock.advance(100);
  assert.deepEqual(ran, [t0 + 10, t0 + 20]);
});

test('a callback that throws is reported and the others still run', () => {
  const { clock } = counted();
  const errors: unknown[] = [];
  const q = new TimerQueue(clock, (e) => errors.push(e));
  const ran: string[] = [];
  q.scheduleIn(10, () => {
    throw new Error('boom');
  });
  q.scheduleIn(10, () => ran.push('after'));
  clock.advance(10);
  assert.deepEqual(ran, ['after']);
  assert.equal(errors.length, 1);
});

test('stop() disarms the runtime timer and drops every deadline', () => {
  const { clock, armed } = counted();
  const q = new TimerQueue(clock);
  let ran = false;
  q.scheduleIn(10, () => (ran = true));
  q.stop();
  q.scheduleIn(5, () => (ran = true));
  assert.equal(armed(), 0);
  clock.advance(100);
  assert.equal(ran, false);
});

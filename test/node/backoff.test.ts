// The CrashLoopBackOff arithmetic as the kubelet's flowcontrol.Backoff + doBackOff: tables of
// crash sequences with the delays and messages a user would see in `kubectl describe pod`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContainerBackoff, formatGoDuration, type BackoffKey } from '../../src/node/backoff.js';

const key: BackoffKey = { podUid: 'u-1', podName: 'crash', namespace: 'default', container: 'app' };
const S = 1000;
const MIN = 60 * S;

// Drives a container that crashes `runs[i]` ms after each start, restarting as soon as allowed.
// Returns the wait before each restart (0 for an immediate one); `restarts` also gives the time
// of the last restart.
function crashLoop(b: ContainerBackoff, runs: number[]): number[] {
  return restarts(b, runs).waits;
}

function restarts(b: ContainerBackoff, runs: number[]): { waits: number[]; now: number } {
  let now = 0;
  const waits: number[] = [];
  for (const ran of runs) {
    now += ran; // the instance ran, then finished
    const finishedAt = now;
    const d = b.tryRestart(key, finishedAt, now);
    if (!d.waiting) {
      waits.push(0);
      continue;
    }
    now += d.remainingMs;
    assert.equal(b.tryRestart(key, finishedAt, now).waiting, false, 'allowed once the delay passed');
    waits.push(d.remainingMs);
  }
  return { waits, now };
}

test('a crash loop restarts at once, then after 10s, 20s, 40s … capped at 5 minutes', () => {
  const waits = crashLoop(new ContainerBackoff(), Array(9).fill(1 * S));
  assert.deepEqual(
    waits.map((w) => w / S),
    [0, 10, 20, 40, 80, 160, 300, 300, 300],
  );
});

test('a container that ran more than 10 minutes since its last restart starts over at 10s', () => {
  const b = new ContainerBackoff();
  const waits = crashLoop(b, [S, S, S, S, 10 * MIN + S, S]);
  assert.deepEqual(
    waits.map((w) => w / S),
    [0, 10, 20, 40, 0, 10],
  );
});

test('exactly 10 minutes of running is not enough to start over (the rule is strictly more)', () => {
  const b = new ContainerBackoff();
  const waits = crashLoop(b, [S, S, 10 * MIN]);
  assert.deepEqual(
    waits.map((w) => w / S),
    [0, 10, 20],
  );
});

const messages: [string, number, string][] = [
  ['the second crash waits 10s', 2, 'back-off 10s restarting failed container=app pod=crash_default(u-1)'],
  ['the fifth crash waits 1m20s, in Go duration form', 5, 'back-off 1m20s restarting failed container=app pod=crash_default(u-1)'],
  ['a capped back-off reads 5m0s', 8, 'back-off 5m0s restarting failed container=app pod=crash_default(u-1)'],
];
for (const [name, crashes, message] of messages) {
  test(`waiting message: ${name}`, () => {
    const b = new ContainerBackoff();
    const { now } = restarts(b, Array(crashes - 1).fill(S));
    const d = b.inBackoff(key, now + S, now + S);
    assert.ok(d.waiting);
    assert.equal(d.message, message);
    assert.equal(d.event, 'Back-off restarting failed container app in pod crash_default(u-1)');
  });
}

test('inBackoff reports the time left, and nothing once it has passed', () => {
  const b = new ContainerBackoff();
  b.next(key, 0, 0); // first restart
  const d = b.inBackoff(key, 3 * S, 7 * S);
  assert.ok(d.waiting);
  assert.equal(d.remainingMs, 6 * S);
  assert.equal(b.inBackoff(key, 3 * S, 13 * S).waiting, false);
  assert.equal(b.get(key), 10 * S, 'inBackoff does not move the back-off');
});

test('a container the agent never restarted is not in back-off', () => {
  assert.equal(new ContainerBackoff().inBackoff(key, 0, 1).waiting, false);
});

test('containers of a pod, and new container specs, have their own back-off', () => {
  const b = new ContainerBackoff();
  crashLoop(b, [S, S, S]);
  assert.equal(b.get(key), 40 * S);
  assert.equal(b.get({ ...key, container: 'sidecar' }), 0);
  assert.equal(b.get({ ...key, specHash: 'abc' }), 0, 'a changed spec starts over');
});

test('forget drops every entry of the pod and only that pod', () => {
  const b = new ContainerBackoff();
  const other: BackoffKey = { ...key, podUid: 'u-2', podName: 'other' };
  b.next(key, 0, 0);
  b.next({ ...key, container: 'sidecar' }, 0, 0);
  b.next(other, 0, 0);
  b.forget('u-1');
  assert.equal(b.size(), 1);
  assert.equal(b.get(other), 10 * S);
});

test('gc drops entries idle for longer than the reset time', () => {
  const b = new ContainerBackoff();
  b.next(key, 0, 0);
  b.gc(10 * MIN);
  assert.equal(b.size(), 1);
  b.gc(10 * MIN + 1);
  assert.equal(b.size(), 0);
});

test('base and cap are configurable, and a cap under the base lowers the base', () => {
  const fast = new ContainerBackoff({ baseMs: 100, maxMs: 1000 });
  assert.deepEqual(crashLoop(fast, Array(7).fill(10)), [0, 100, 200, 400, 800, 1000, 1000]);
  const low = new ContainerBackoff({ baseMs: 10 * S, maxMs: 2 * S });
  assert.deepEqual(crashLoop(low, [S, S, S]), [0, 2 * S, 2 * S]);
  const quickReset = new ContainerBackoff({ baseMs: 100, maxMs: 1000, resetAfterMs: 5000 });
  assert.deepEqual(crashLoop(quickReset, [10, 10, 6000, 10]), [0, 100, 0, 100]);
});

const durations: [number, string][] = [
  [0, '0s'],
  [100, '100ms'],
  [1500, '1.5s'],
  [10_000, '10s'],
  [80_000, '1m20s'],
  [160_000, '2m40s'],
  [300_000, '5m0s'],
  [3_600_000, '1h0m0s'],
];
for (const [ms, text] of durations) {
  test(`${ms} ms prints as Go prints a duration: ${text}`, () => {
    assert.equal(formatGoDuration(ms), text);
  });
}

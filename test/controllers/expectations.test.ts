// ControllerExpectations: an owner waits until the cache has seen its last round of creates and
// deletes, or until the TTL passes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ControllerExpectations, revisionSeen, type ExpectationView } from '../../src/controllers/expectations.js';
import { FakeClock } from '../../src/util/clock.js';

type Cached = Record<string, { uid?: string; deletionTimestamp?: string }>;
const view = (cached: Cached, seen: string): ExpectationView => ({
  get: (name) => (cached[name] ? { metadata: cached[name]! } : undefined),
  seenRevision: () => seen,
});

const cases: { name: string; round: (e: ControllerExpectations) => void; cached: Cached; seen: string; satisfied: boolean }[] = [
  { name: 'an owner with no round pending may act', round: () => {}, cached: {}, seen: '1', satisfied: true },
  { name: 'a created pod not yet in the cache holds the owner back', round: (e) => e.expectCreated('k', 'p1', '10'), cached: {}, seen: '9', satisfied: false },
  { name: 'a created pod in the cache is observed', round: (e) => e.expectCreated('k', 'p1', '10'), cached: { p1: {} }, seen: '9', satisfied: true },
  { name: 'a created pod already gone is observed once the cache caught up to its revision', round: (e) => e.expectCreated('k', 'p1', '10'), cached: {}, seen: '12', satisfied: true },
  { name: 'one created pod seen and one not still holds the owner back', round: (e) => (e.expectCreated('k', 'p1', '10'), e.expectCreated('k', 'p2', '11')), cached: { p1: {} }, seen: '10', satisfied: false },
  { name: 'a deleted pod still cached holds the owner back', round: (e) => e.expectDeleted('k', 'p1', 'u1'), cached: { p1: { uid: 'u1' } }, seen: '20', satisfied: false },
  { name: 'a deleted pod with a deletionTimestamp in the cache counts as deleted', round: (e) => e.expectDeleted('k', 'p1', 'u1'), cached: { p1: { uid: 'u1', deletionTimestamp: 'now' } }, seen: '20', satisfied: true },
  { name: 'a deleted pod gone from the cache is observed', round: (e) => e.expectDeleted('k', 'p1', 'u1'), cached: {}, seen: '20', satisfied: true },
  { name: 'a new pod of the same name does not hold the owner back', round: (e) => e.expectDeleted('k', 'p1', 'u1'), cached: { p1: { uid: 'u2' } }, seen: '20', satisfied: true },
  { name: 'a delete that failed is not waited for', round: (e) => (e.expectDeleted('k', 'p1', 'u1'), e.deletionFailed('k', 'p1')), cached: { p1: { uid: 'u1' } }, seen: '20', satisfied: true },
  { name: 'another owner is not held back', round: (e) => e.expectCreated('other', 'p1', '10'), cached: {}, seen: '1', satisfied: true },
];

for (const c of cases) {
  test(c.name, () => {
    const e = new ControllerExpectations(new FakeClock());
    e.begin('k');
    c.round(e);
    assert.equal(e.satisfied('k', view(c.cached, c.seen)), c.satisfied);
  });
}

test('after the TTL an unseen round no longer holds the owner back', () => {
  const clock = new FakeClock();
  const e = new ControllerExpectations(clock, 1000);
  e.expectCreated('k', 'p1', '10');
  assert.equal(e.satisfied('k', view({}, '1')), false);
  clock.advance(1001);
  assert.equal(e.satisfied('k', view({}, '1')), true);
});

test('a write once observed stays observed even if a relist drops it from the cache view', () => {
  const e = new ControllerExpectations(new FakeClock());
  e.expectCreated('k', 'p1', '10');
  e.expectCreated('k', 'p2', '11');
  assert.equal(e.satisfied('k', view({ p1: {} }, '1')), false);
  assert.deepEqual(e.outstanding('k'), { adds: 1, dels: 0 });
  assert.equal(e.satisfied('k', view({ p2: {} }, '1')), true);
});

test('revisions compare as integers, and anything else is never seen', () => {
  assert.equal(revisionSeen('100', '99'), true);
  assert.equal(revisionSeen('99', '100'), false);
  assert.equal(revisionSeen('abc', '1'), false);
});

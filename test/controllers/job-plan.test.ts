// The Job controller's pure decisions as tables: failed-pod classification, the pod failure
// policy, the back-off, OnFailure restarts, completedIndexes, success criteria, active counts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import * as plan from '../../src/controllers/job-plan.js';

const job = (spec: Partial<NonNullable<Job['spec']>> = {}, status: Job['status'] = {}): Job => ({ metadata: { name: 'j', namespace: 'ns' }, spec: { ...spec, template: spec.template ?? {} }, status });
const pod = (phase: string, extra: Partial<Pod> = {}): Pod => ({ metadata: { name: 'p', namespace: 'ns', ...extra.metadata }, status: { phase, ...extra.status } });
const exited = (code: number, name = 'main'): Pod => pod('Failed', { status: { containerStatuses: [{ name, image: 'x', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: code } } }] } });

describe('job-plan', () => {
  test('isFailed: Failed, or deleted before succeeding unless only failed pods are replaced', () => {
    const deleting = pod('Running', { metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } });
    const cases: [Pod, Job, boolean][] = [
      [pod('Failed'), job(), true],
      [pod('Running'), job(), false],
      [deleting, job(), true],
      [deleting, job({ template: {}, podReplacementPolicy: 'Failed' }), false],
      [deleting, job({ template: {}, podFailurePolicy: { rules: [] } }), false],
      [pod('Succeeded', { metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } }), job(), false],
    ];
    for (const [p, j, want] of cases) assert.equal(plan.isFailed(p, j), want);
  });

  test('matchPodFailurePolicy: the first matching rule, with upstream messages', () => {
    const j = job({
      template: {},
      podFailurePolicy: {
        rules: [
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
          { action: 'FailJob', onExitCodes: { operator: 'In', values: [42] } },
          { action: 'Count', onExitCodes: { containerName: 'main', operator: 'NotIn', values: [1, 42] } },
        ],
      },
    });
    const disrupted = pod('Failed', { status: { conditions: [{ type: 'DisruptionTarget', status: 'True' }] } });
    const cases: [Pod, string | undefined, string | undefined][] = [
      [disrupted, 'Ignore', 'Pod ns/p has condition DisruptionTarget matching Ignore rule at index 0'],
      [exited(42), 'FailJob', 'Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1'],
      [exited(3), 'Count', 'Container main for pod ns/p failed with exit code 3 matching Count rule at index 2'],
      [exited(1), undefined, undefined],
      [exited(3, 'side'), undefined, undefined],
    ];
    for (const [p, action, message] of cases) {
      const m = plan.matchPodFailurePolicy(j, p);
      assert.equal(m?.action, action);
      assert.equal(m?.message, message);
    }
  });

  test('remainingBackoffMs: base·2^(n−1) from the last failure, capped, reset by a success', () => {
    const cases: [{ failed: boolean; at: number }[], number, number][] = [
      [[], 0, 0],
      [[{ failed: true, at: 0 }], 0, 10_000],
      [[{ failed: true, at: 0 }], 4_000, 6_000],
      [[{ failed: true, at: 0 }, { failed: true, at: 1000 }], 1000, 20_000],
      [[{ failed: true, at: 0 }, { failed: false, at: 1000 }], 1000, 0],
      [[{ failed: false, at: 0 }, { failed: true, at: 1000 }], 1000, 10_000],
      [Array.from({ length: 12 }, (_, i) => ({ failed: true, at: i })), 11, plan.MAX_BACKOFF_MS],
    ];
    for (const [finished, now, want] of cases) assert.equal(plan.remainingBackoffMs(finished, now), want);
    assert.equal(plan.remainingBackoffMs([{ failed: true, at: 0 }], 0, 10), 10);
  });

  test('pastBackoffLimitOnFailure counts restarts of pending and running pods with OnFailure only', () => {
    const restarted = (n: number, phase = 'Running') => pod(phase, { status: { containerStatuses: [{ name: 'c', image: 'x', imageID: '', ready: false, restartCount: n }] } });
    const onFailure = (limit: number) => job({ backoffLimit: limit, template: { spec: { restartPolicy: 'OnFailure', containers: [] } } });
    const cases: [Job, Pod[], boolean][] = [
      [onFailure(2), [restarted(1), restarted(1)], true],
      [onFailure(3), [restarted(1), restarted(1)], false],
      [onFailure(0), [restarted(1)], true],
      [onFailure(0), [restarted(0)], false],
      [onFailure(1), [restarted(5, 'Failed')], false],
      [job({ backoffLimit: 1, template: { spec: { restartPolicy: 'Never', containers: [] } } }), [restarted(5)], false],
    ];
    for (const [j, pods, want] of cases) assert.equal(plan.pastBackoffLimitOnFailure(j, pods), want);
  });

  test('completedIndexes round-trip as upstream formats them', () => {
    const cases: [number[], string][] = [
      [[], ''],
      [[0], '0'],
      [[0, 1], '0-1'],
      [[5, 1, 3, 4, 7], '1,3-5,7'],
    ];
    for (const [xs, s] of cases) {
      assert.equal(plan.formatIndexes(xs), s);
      assert.deepEqual([...plan.parseIndexes(s)].sort((a, b) => a - b), [...new Set(xs)].sort((a, b) => a - b));
    }
    assert.deepEqual(plan.firstPendingIndexes(5, new Set([0, 2]), new Set([1]), 2), [3, 4]);
  });

  test('wantActive and successCriteriaMet', () => {
    const counts = (succeeded: number, completed: number[] = []): plan.Counts => ({ succeeded, failed: 0, completed: new Set(completed) });
    const cases: [Job, plan.Counts, number, number, boolean][] = [
      [job({ completions: 5, parallelism: 2, template: {} }), counts(0), 0, 2, false],
      [job({ completions: 5, parallelism: 2, template: {} }), counts(4), 1, 1, false],
      [job({ completions: 5, parallelism: 2, template: {} }), counts(5), 0, 0, true],
      [job({ completions: 5, parallelism: 2, suspend: true, template: {} }), counts(0), 2, 0, false],
      [job({ parallelism: 3, template: {} }), counts(0), 3, 3, false],
      [job({ parallelism: 3, template: {} }), counts(1), 2, 2, false],
      [job({ parallelism: 3, template: {} }), counts(1), 0, 0, true],
      [job({ completions: 3, parallelism: 3, completionMode: 'Indexed', template: {} }), counts(3, [0, 2]), 1, 1, false],
      [job({ completions: 3, parallelism: 3, completionMode: 'Indexed', template: {} }), counts(3, [0, 1, 2]), 0, 0, true],
    ];
    for (const [j, c, active, want, complete] of cases) {
      assert.equal(plan.wantActive(j, c, active), want);
      assert.equal(plan.successCriteriaMet(j, c, active), complete);
    }
  });

  test('failureReason: FailJob, then the backoff limit, then the deadline', () => {
    const c = (failed: number): plan.Counts => ({ succeeded: 0, failed, completed: new Set() });
    const now = Date.parse('2026-01-01T00:01:00Z');
    const started = { startTime: '2026-01-01T00:00:00Z' };
    assert.deepEqual(plan.failureReason(job({ backoffLimit: 1, template: {} }), [], c(2), now), { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    assert.equal(plan.failureReason(job({ backoffLimit: 1, template: {} }), [], c(1), now), undefined);
    assert.deepEqual(plan.failureReason(job({ activeDeadlineSeconds: 60, template: {} }, started), [], c(0), now), { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
    assert.equal(plan.failureReason(job({ activeDeadlineSeconds: 61, template: {} }, started), [], c(0), now), undefined);
    assert.equal(plan.failureReason(job({ activeDeadlineSeconds: 60, suspend: true, template: {} }, started), [], c(0), now), undefined);
    assert.deepEqual(plan.failureReason(job({ backoffLimit: 1, template: {} }), [], c(5), now, 'm'), { reason: 'PodFailurePolicy', message: 'm' });
  });

  test('setCondition keeps an unchanged condition and adds no False one that never existed', () => {
    const now = '2026-01-01T00:00:00Z';
    const a = plan.setCondition([], { type: 'Suspended', status: 'False' }, now);
    assert.equal(a.changed, false);
    const b = plan.setCondition([], { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, now);
    assert.deepEqual(b.conditions, [{ type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended', lastProbeTime: now, lastTransitionTime: now }]);
    assert.equal(plan.setCondition(b.conditions, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, 'later').changed, false);
  });
});

// The ReplicaSet controller's pure decisions: the order pods are deleted in (ActivePodsWithRanks),
// slow-start burst sizes, how many pods to create or which to delete, claiming, and status.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { labelSelectorFromObject } from '../../src/api/selectors.js';
import { deletesBefore, isPodActive, isPodAvailable, podsToDelete, POD_DELETION_COST } from '../../src/controllers/pod-ranking.js';
import { BURST_REPLICAS, calculateStatus, nextAvailableInMs, planClaims, planReplicas, slowStartBatches, statusNeedsWrite } from '../../src/controllers/replicaset-plan.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const ago = (s: number) => new Date(NOW - s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

interface PodOpts {
  uid?: string;
  node?: string;
  phase?: string;
  readySince?: number; // seconds ago; undefined: not ready
  created?: number; // seconds ago; undefined: no creationTimestamp
  restarts?: number;
  sidecarRestarts?: number;
  cost?: string;
  labels?: Record<string, string>;
  owner?: string; // controller uid
  deleting?: boolean;
}

function pod(name: string, o: PodOpts = {}): Pod {
  const p: Pod = {
    metadata: { name, namespace: 'ns', uid: o.uid ?? name, labels: o.labels ?? { app: 'web' } },
    spec: { containers: [{ name: 'c' }], initContainers: [{ name: 'side', restartPolicy: 'Always' }], ...(o.node ? { nodeName: o.node } : {}) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [o.readySince === undefined ? { type: 'Ready', status: 'False' } : { type: 'Ready', status: 'True', lastTransitionTime: ago(o.readySince) }],
      containerStatuses: [{ name: 'c', restartCount: o.restarts ?? 0 } as never],
      initContainerStatuses: [{ name: 'side', restartCount: o.sidecarRestarts ?? 0 } as never],
    },
  };
  const meta = p.metadata as { creationTimestamp?: string; deletionTimestamp?: string };
  if (o.created !== undefined) meta.creationTimestamp = ago(o.created);
  if (o.cost !== undefined) p.metadata!.annotations = { [POD_DELETION_COST]: o.cost };
  if (o.owner) p.metadata!.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: o.owner, controller: true }];
  if (o.deleting) meta.deletionTimestamp = ago(0);
  return p;
}

const assigned: PodOpts = { node: 'n1', phase: 'Running', readySince: 100, created: 200 };

describe('deletion order (ActivePodsWithRanks)', () => {
  const cases: { name: string; first: PodOpts; then: PodOpts; firstRank?: number; thenRank?: number }[] = [
    { name: 'an unassigned pod goes before an assigned one, even a running ready one', first: { phase: 'Running', readySince: 100 }, then: { ...assigned, phase: 'Pending', readySince: undefined } },
    { name: 'a Pending pod goes before an Unknown one', first: { ...assigned, phase: 'Pending' }, then: { ...assigned, phase: 'Unknown' } },
    { name: 'an Unknown pod goes before a Running one', first: { ...assigned, phase: 'Unknown' }, then: assigned },
    { name: 'a not-ready pod goes before a ready one, however old', first: { ...assigned, readySince: undefined, created: 5000 }, then: { ...assigned, created: 10 } },
    { name: 'a lower pod-deletion-cost goes first', first: { ...assigned, cost: '-5' }, then: { ...assigned, cost: '10', readySince: 1 } },
    { name: 'an invalid pod-deletion-cost counts as 0', first: { ...assigned, cost: 'cheap' }, then: { ...assigned, cost: '1' } },
    { name: 'a pod doubled up on a node (higher rank) goes first', first: assigned, then: { ...assigned, readySince: 1 }, firstRank: 3, thenRank: 1 },
    { name: 'a pod ready for less time goes first', first: { ...assigned, readySince: 10 }, then: { ...assigned, readySince: 100_000 } },
    { name: 'a pod with more container restarts goes first', first: { ...assigned, restarts: 3 }, then: { ...assigned, restarts: 1, created: 10 } },
    { name: 'with equal container restarts, more sidecar restarts go first', first: { ...assigned, sidecarRestarts: 2 }, then: assigned },
    { name: 'a newer pod goes before an older one', first: { ...assigned, created: 10 }, then: { ...assigned, created: 100_000 } },
    { name: 'a pod without creationTimestamp goes before any other', first: { ...assigned, created: undefined }, then: { ...assigned, created: 10 } },
    { name: 'pods of about the same age (one log2 bucket) are ordered by UID, not by the exact age', first: { ...assigned, created: 700, uid: 'a' }, then: { ...assigned, created: 600, uid: 'b' } },
    { name: 'pods ready for about the same time (one log2 bucket) are ordered by UID', first: { ...assigned, readySince: 700, uid: 'a' }, then: { ...assigned, readySince: 600, uid: 'b' } },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const a = { pod: pod('first', c.first), rank: c.firstRank ?? 0 };
      const b = { pod: pod('then', c.then), rank: c.thenRank ?? 0 };
      assert.equal(deletesBefore(a, b, NOW), true);
      assert.equal(deletesBefore(b, a, NOW), false);
    });
  }

  test('identical pods are not ordered', () => {
    const a = { pod: pod('a', { ...assigned, uid: 'same' }), rank: 0 };
    assert.equal(deletesBefore(a, { ...a }, NOW), false);
  });

  test('podsToDelete picks the first pods in that order, ranking by related pods on the same node', () => {
    const pods = [
      pod('ready-old', { node: 'n1', readySince: 5000, created: 6000 }),
      pod('pending', { node: 'n1', phase: 'Pending', created: 60 }),
      pod('unassigned', { phase: 'Pending', created: 30 }),
      pod('crowded', { node: 'n2', readySince: 5000, created: 6000 }),
    ];
    const related = [...pods, pod('sibling-1', { node: 'n2' }), pod('sibling-2', { node: 'n2' }), pod('gone', { node: 'n1', deleting: true })];
    assert.deepEqual(podsToDelete(pods, related, 3, NOW).map((p) => p.metadata?.name), ['unassigned', 'pending', 'crowded']);
    assert.deepEqual(podsToDelete(pods, related, 9, NOW).length, 4, 'asking for more than there are returns them all');
  });
});

describe('pod predicates', () => {
  const cases: { name: string; pod: Pod; active: boolean }[] = [
    { name: 'a running pod is active', pod: pod('p', assigned), active: true },
    { name: 'a pending pod is active', pod: pod('p', { phase: 'Pending' }), active: true },
    { name: 'a Succeeded pod is not active', pod: pod('p', { phase: 'Succeeded' }), active: false },
    { name: 'a Failed pod is not active', pod: pod('p', { phase: 'Failed' }), active: false },
    { name: 'a pod being deleted is not active', pod: pod('p', { ...assigned, deleting: true }), active: false },
  ];
  for (const c of cases) test(c.name, () => assert.equal(isPodActive(c.pod), c.active));

  test('a pod is available only once ready for strictly longer than minReadySeconds', () => {
    assert.equal(isPodAvailable(pod('p', { readySince: 10 }), 10, NOW), false);
    assert.equal(isPodAvailable(pod('p', { readySince: 11 }), 10, NOW), true);
    assert.equal(isPodAvailable(pod('p', { readySince: 0 }), 0, NOW), true);
    assert.equal(isPodAvailable(pod('p', {}), 0, NOW), false);
  });
});

describe('slow-start batches', () => {
  const cases: [string, number, number[]][] = [
    ['nothing to create makes no batch', 0, []],
    ['one pod is one batch of one', 1, [1]],
    ['three pods go as 1 then 2', 3, [1, 2]],
    ['ten pods go as 1, 2, 4 then the 3 left', 10, [1, 2, 4, 3]],
    ['fifteen pods go as 1, 2, 4, 8', 15, [1, 2, 4, 8]],
    ['sixteen pods leave a last batch of one', 16, [1, 2, 4, 8, 1]],
  ];
  for (const [name, n, want] of cases) test(name, () => assert.deepEqual(slowStartBatches(n), want));
});

const rs = (replicas: number | undefined, extra: Partial<ReplicaSet> = {}): ReplicaSet => ({
  metadata: { name: 'rs', namespace: 'ns', uid: 'rs-uid', generation: 2, ...extra.metadata },
  spec: { ...(replicas === undefined ? {} : { replicas }), selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web', tier: 'fe' } } }, ...extra.spec },
  ...(extra.status ? { status: extra.status } : {}),
});

describe('how many pods to create or which to delete', () => {
  test('too few pods: create the difference', () => assert.deepEqual(planReplicas(rs(5), [pod('a')], [], NOW), { create: 4 }));
  test('spec.replicas defaults to 1', () => assert.deepEqual(planReplicas(rs(undefined), [], [], NOW), { create: 1 }));
  test('creates are capped at the burst size', () => assert.deepEqual(planReplicas(rs(10_000), [], [], NOW), { create: BURST_REPLICAS }));
  test('the right number: nothing to do', () => assert.deepEqual(planReplicas(rs(1), [pod('a')], [], NOW), { nothing: true }));
  test('too many pods: delete the surplus, not-ready ones first', () => {
    const plan = planReplicas(rs(1), [pod('ready', { ...assigned }), pod('unready', { node: 'n1', created: 300 })], [], NOW);
    assert.deepEqual('delete' in plan ? plan.delete.map((p) => p.metadata?.name) : plan, ['unready']);
  });
});

describe('claiming pods', () => {
  const sel = labelSelectorFromObject({ matchLabels: { app: 'web' } });
  const pods = [
    pod('mine', { owner: 'rs-uid' }),
    pod('mine-relabelled', { owner: 'rs-uid', labels: { app: 'other' } }),
    pod('orphan', {}),
    pod('orphan-elsewhere', { labels: { app: 'other' } }),
    pod('orphan-deleting', { deleting: true }),
    pod('someone-elses', { owner: 'other-uid' }),
  ];
  const names = (ps: Pod[]) => ps.map((p) => p.metadata?.name);
  test('its matching pods count, its non-matching ones are released, matching orphans adopted, the rest left alone', () => {
    const plan = planClaims(rs(3), sel, pods);
    assert.deepEqual(names(plan.owned), ['mine']);
    assert.deepEqual(names(plan.release), ['mine-relabelled']);
    assert.deepEqual(names(plan.adopt), ['orphan']);
  });
  test('a ReplicaSet being deleted neither adopts nor releases', () => {
    const plan = planClaims(rs(3, { metadata: { deletionTimestamp: ago(1) } }), sel, pods);
    assert.deepEqual(names(plan.owned), ['mine']);
    assert.deepEqual(plan.release, []);
    assert.deepEqual(plan.adopt, []);
  });
});

describe('status', () => {
  const pods = [
    pod('available', { ...assigned, readySince: 100 }),
    pod('just-ready', { ...assigned, readySince: 2 }),
    pod('unready', { node: 'n1', labels: { app: 'web', tier: 'fe' } }),
  ];
  pods[0]!.metadata!.labels = { app: 'web', tier: 'fe' };

  test('counts replicas, fully labeled, ready and available (minReadySeconds) pods', () => {
    const s = calculateStatus(rs(3, { spec: { minReadySeconds: 10 } as never }), pods, undefined, NOW);
    assert.deepEqual(s, { replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 1 });
  });
  test('zero counts are omitted, replicas is always there', () => {
    assert.deepEqual(calculateStatus(rs(0), [], undefined, NOW), { replicas: 0 });
  });
  test('a failed create sets ReplicaFailure with reason FailedCreate and the error message', () => {
    const s = calculateStatus(rs(5), pods, { message: 'exceeded quota' }, NOW);
    assert.deepEqual(s.conditions, [{ type: 'ReplicaFailure', status: 'True', lastTransitionTime: ago(0), reason: 'FailedCreate', message: 'exceeded quota' }]);
  });
  test('a failed delete sets ReplicaFailure with reason FailedDelete', () => {
    assert.equal(calculateStatus(rs(1), pods, { message: 'x' }, NOW).conditions?.[0]?.reason, 'FailedDelete');
  });
  test('an existing ReplicaFailure is kept as it was while failures go on', () => {
    const old = { type: 'ReplicaFailure', status: 'True', lastTransitionTime: ago(60), reason: 'FailedCreate', message: 'first' };
    const s = calculateStatus(rs(5, { status: { replicas: 3, conditions: [old] } }), pods, { message: 'second' }, NOW);
    assert.deepEqual(s.conditions, [old]);
  });
  test('ReplicaFailure is removed once a sync succeeds', () => {
    const old = { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'first' };
    assert.equal(calculateStatus(rs(3, { status: { replicas: 3, conditions: [old] } }), pods, undefined, NOW).conditions, undefined);
  });
  test('a status write is needed when observedGeneration lags metadata.generation, and not when all agree', () => {
    const cur = { replicas: 3, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2 };
    assert.equal(statusNeedsWrite(rs(3, { status: { ...cur, observedGeneration: 1 } }), cur), true);
    assert.equal(statusNeedsWrite(rs(3, { status: { ...cur, observedGeneration: 2 } }), cur), false);
    assert.equal(statusNeedsWrite(rs(3, { status: { ...cur, observedGeneration: 2 } }), { ...cur, readyReplicas: 3 }), true);
  });
  test('the next look is due when the first ready pod becomes available', () => {
    assert.equal(nextAvailableInMs(rs(3, { spec: { minReadySeconds: 10 } as never }), pods, NOW), 8001);
    assert.equal(nextAvailableInMs(rs(3), pods, NOW), undefined);
  });
});

// Tables for the StatefulSet controller's pure decisions: what one sync writes (OrderedReady and
// Parallel, scale up and down, rolling update with partition, OnDelete, failed pods), the pod and
// claims of an ordinal, claim owner references under the retention policy, revisions.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../src/api/types.js';
import { claimOwnerRefs, claimsFor, completeRollingUpdate, newPod, planStatefulSet, podMatchesSet, type Action, type Rev, type StatefulSet } from '../../src/controllers/statefulset-plan.js';
import { decideUpdateRevision, newRevision, revisionsToPrune, templateOf, type ControllerRevision } from '../../src/controllers/statefulset-revisions.js';

const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } };
const R1: Rev = { name: 'web-r1', template };
const R2: Rev = { name: 'web-r2', template: { ...template, spec: { containers: [{ name: 'c', image: 'nginx:2' }] } } };

function sts(extra: Partial<StatefulSet['spec']> = {}): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'set-uid', generation: 1 },
    spec: { replicas: 3, serviceName: 'web', selector: { matchLabels: { app: 'web' } }, template, podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, ...extra },
  };
}

type State = 'ready' | 'pending' | 'terminating' | 'failed';
function pod(set: StatefulSet, ordinal: number, state: State = 'ready', rev: Rev = R1): KubeObject {
  const p = newPod(set, ordinal, rev) as KubeObject & { status?: unknown };
  p.metadata.uid = `pod-${ordinal}`;
  if (state === 'terminating') p.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
  p.status =
    state === 'failed' ? { phase: 'Failed' } : state === 'pending' ? { phase: 'Pending' } : { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
  return p;
}
const summary = (a: Action): string => `${a.op} ${a.op === 'claimRefs' ? a.claim.metadata.name : a.pod.metadata.name}`;
const plan = (set: StatefulSet, pods: KubeObject[], update: Rev = R1, current: Rev = R1) =>
  planStatefulSet({ set, pods, claims: new Map(), current, update, collisionCount: 0, nowMs: 0 });

describe('planStatefulSet', () => {
  const cases: { name: string; set: StatefulSet; pods: (s: StatefulSet) => KubeObject[]; update?: Rev; want: string[]; waiting?: boolean }[] = [
    { name: 'OrderedReady starts with ordinal 0 only', set: sts(), pods: () => [], want: ['create web-0'], waiting: true },
    { name: 'OrderedReady waits for web-0 to be Running and Ready', set: sts(), pods: (s) => [pod(s, 0, 'pending')], want: [], waiting: true },
    { name: 'OrderedReady creates web-1 once web-0 is ready', set: sts(), pods: (s) => [pod(s, 0)], want: ['create web-1'] },
    { name: 'a missing middle ordinal is recreated first', set: sts(), pods: (s) => [pod(s, 0), pod(s, 2)], want: ['create web-1'] },
    { name: 'Parallel creates every missing pod at once', set: sts({ podManagementPolicy: 'Parallel' }), pods: (s) => [pod(s, 1, 'pending')], want: ['create web-0', 'create web-2'] },
    { name: 'scale down removes the highest ordinal, one at a time', set: sts({ replicas: 1 }), pods: (s) => [pod(s, 0), pod(s, 1), pod(s, 2)], want: ['delete web-2'] },
    { name: 'scale down waits for a terminating pod', set: sts({ replicas: 1 }), pods: (s) => [pod(s, 0), pod(s, 1), pod(s, 2, 'terminating')], want: [], waiting: true },
    { name: 'Parallel scale down deletes all condemned at once', set: sts({ replicas: 1, podManagementPolicy: 'Parallel' }), pods: (s) => [pod(s, 0), pod(s, 1), pod(s, 2)], want: ['delete web-2', 'delete web-1'] },
    { name: 'a failed pod is deleted to be recreated', set: sts(), pods: (s) => [pod(s, 0, 'failed')], want: ['delete web-0'], waiting: true },
    { name: 'rolling update deletes the highest old pod first', set: sts(), pods: (s) => [pod(s, 0), pod(s, 1), pod(s, 2)], update: R2, want: ['delete web-2'] },
    { name: 'rolling update moves down once the updated pod is ready', set: sts(), pods: (s) => [pod(s, 0), pod(s, 1), pod(s, 2, 'ready', R2)], update: R2, want: ['delete web-1'] },
    { name: 'rolling update waits for the updated pod to be ready', set: sts({ podManagementPolicy: 'Parallel' }), pods: (s) => [pod(s, 0), pod(s, 1), pod(s, 2, 'pending', R2)], update: R2, want: [], waiting: true },
    { name: 'the partition stops the update', set: sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }), pods: (s) => [pod(s, 0), pod(s, 1), pod(s, 2, 'ready', R2)], update: R2, want: [] },
    { name: 'OnDelete never deletes for an update', set: sts({ updateStrategy: { type: 'OnDelete' } }), pods: (s) => [pod(s, 0), pod(s, 1), pod(s, 2)], update: R2, want: [] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const p = plan(c.set, c.pods(c.set), c.update ?? R1);
      assert.deepEqual(p.actions.map(summary), c.want);
      if (c.waiting !== undefined) assert.equal(p.waiting !== undefined, c.waiting);
    });
  }

  test('a pod below the partition is recreated from the current revision, above it from the update revision', () => {
    const set = sts({ podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } });
    const p = plan(set, [], R2, R1);
    const revs = p.actions.map((a) => `${a.pod.metadata.name}=${a.pod.metadata.labels?.['controller-revision-hash']}`);
    assert.deepEqual(revs, ['web-0=web-r1', 'web-1=web-r1', 'web-2=web-r2']);
  });

  test('status counts pods by readiness and revision; a finished rolling update makes the update revision current', () => {
    const set = sts();
    const p = plan(set, [pod(set, 0, 'ready', R2), pod(set, 1, 'ready', R2), pod(set, 2, 'ready', R2)], R2, R1);
    assert.deepEqual(p.actions, []);
    assert.deepEqual(
      { ...p.status },
      { replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 0, updatedReplicas: 3, currentRevision: 'web-r1', updateRevision: 'web-r2', collisionCount: 0, observedGeneration: 1 },
    );
    const done = completeRollingUpdate(set, p.status);
    assert.equal(done.currentRevision, 'web-r2');
    assert.equal(done.currentReplicas, 3);
  });
});

describe('the pod and claims of an ordinal', () => {
  const set = sts({ volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }] });
  set.metadata.namespace = 'default';
  test('pod identity, labels and claim volumes', () => {
    const p = newPod(set, 1, R1) as KubeObject & { spec: { hostname: string; subdomain: string; volumes: unknown[] } };
    assert.equal(p.metadata.name, 'web-1');
    assert.equal(p.metadata.generateName, 'web-');
    assert.deepEqual(p.metadata.labels, { app: 'web', 'controller-revision-hash': 'web-r1', 'statefulset.kubernetes.io/pod-name': 'web-1', 'apps.kubernetes.io/pod-index': '1' });
    assert.equal(p.spec.hostname, 'web-1');
    assert.equal(p.spec.subdomain, 'web');
    assert.deepEqual(p.spec.volumes, [{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-1' } }]);
    assert.ok(podMatchesSet(set, p as never));
    assert.ok(!podMatchesSet(set, { ...p, metadata: { ...p.metadata, labels: { app: 'web' } } } as never));
    assert.ok(!podMatchesSet(set, { ...p, spec: { ...p.spec, volumes: [] } } as never));
  });
  test('claims are named <claim>-<set>-<ordinal> and carry the selector labels', () => {
    const [c] = claimsFor(set, 2);
    assert.equal(c?.metadata.name, 'data-web-2');
    assert.deepEqual(c?.metadata.labels, { app: 'web' });
  });
  test('a create brings the claims the pod needs', () => {
    const p = plan(set, []);
    const a = p.actions[0];
    assert.ok(a?.op === 'create');
    assert.deepEqual(a.claims.map((c) => c.metadata.name), ['data-web-0']);
  });

  test('a Pending pod whose claim is missing gets it created; a running one is repaired by an update', () => {
    const pending = plan(set, [pod(set, 0, 'pending')]);
    assert.deepEqual(pending.actions.map((a) => [a.op, a.op === 'claims' ? a.claims.map((c) => c.metadata.name) : []]), [['claims', ['data-web-0']]]);
    const running = plan(set, [pod(set, 0)]);
    assert.deepEqual(running.actions.map(summary), ['update web-0', 'create web-1']);
  });
  test('whenScaled=Delete: claims of condemned pods get the pod as owner before the scale-down', () => {
    const s = sts({ replicas: 1, volumeClaimTemplates: set.spec.volumeClaimTemplates, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' } });
    const claims = new Map(['data-web-0', 'data-web-1', 'data-web-2'].map((n) => [n, { metadata: { name: n } } as KubeObject]));
    const p = planStatefulSet({ set: s, pods: [pod(s, 0), pod(s, 1), pod(s, 2)], claims, current: R1, update: R1, collisionCount: 0, nowMs: 0 });
    assert.deepEqual(p.actions.map(summary), ['claimRefs data-web-2', 'claimRefs data-web-1', 'delete web-2']);
  });

  const claim = (): KubeObject => ({ metadata: { name: 'data-web-2', namespace: 'default' } });
  const refTable: { policy: { whenDeleted: string; whenScaled: string }; replicas: number; want: string[] | undefined }[] = [
    { policy: { whenDeleted: 'Retain', whenScaled: 'Retain' }, replicas: 3, want: undefined },
    { policy: { whenDeleted: 'Delete', whenScaled: 'Retain' }, replicas: 3, want: ['StatefulSet'] },
    { policy: { whenDeleted: 'Delete', whenScaled: 'Retain' }, replicas: 1, want: ['StatefulSet'] },
    { policy: { whenDeleted: 'Retain', whenScaled: 'Delete' }, replicas: 3, want: undefined },
    { policy: { whenDeleted: 'Retain', whenScaled: 'Delete' }, replicas: 1, want: ['Pod'] },
    { policy: { whenDeleted: 'Delete', whenScaled: 'Delete' }, replicas: 1, want: ['Pod'] },
  ];
  for (const r of refTable) {
    test(`claim owners with whenDeleted=${r.policy.whenDeleted} whenScaled=${r.policy.whenScaled}, replicas ${r.replicas}`, () => {
      const s = sts({ replicas: r.replicas, persistentVolumeClaimRetentionPolicy: r.policy });
      const refs = claimOwnerRefs(s, claim(), pod(s, 2));
      assert.deepEqual(refs?.map((x) => x.kind), r.want);
      const setRef = refs?.find((x) => x.kind === 'StatefulSet');
      if (setRef) assert.equal(setRef.controller, true);
    });
  }
});

describe('claim owner guards', () => {
  const s = sts({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } });
  const setRef = { apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true, blockOwnerDeletion: true };
  const withRefs = (refs: unknown[]): KubeObject => ({ metadata: { name: 'data-web-0', ownerReferences: refs as never } });
  test('a claim already right needs nothing', () => assert.equal(claimOwnerRefs(s, withRefs([setRef]), pod(s, 0)), undefined));
  test('a claim of an earlier set of that name is left alone', () => assert.equal(claimOwnerRefs(s, withRefs([{ ...setRef, uid: 'old' }]), pod(s, 0)), undefined));
  test('a non-controller reference to the set becomes a controller one', () => assert.deepEqual(claimOwnerRefs(s, withRefs([{ ...setRef, controller: false }]), pod(s, 0)), [setRef]));
  test('a claim controlled by something else only loses our references', () => {
    const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'x', controller: true };
    assert.deepEqual(claimOwnerRefs(s, withRefs([other, setRef]), pod(s, 0)), [other]);
  });
});

describe('ordinals and availability', () => {
  test('spec.ordinals.start shifts the first ordinal', () => {
    assert.deepEqual(plan(sts({ ordinals: { start: 5 } }), []).actions.map(summary), ['create web-5']);
  });
  test('minReadySeconds: ready pods count as available only after it, and OrderedReady waits for it', () => {
    const set = sts({ minReadySeconds: 10 });
    const p0 = pod(set, 0) as KubeObject & { status: { conditions: { lastTransitionTime?: string }[] } };
    p0.status.conditions[0]!.lastTransitionTime = new Date(1_000_000).toISOString();
    const early = planStatefulSet({ set, pods: [p0] as never, claims: new Map(), current: R1, update: R1, collisionCount: 0, nowMs: 1_005_000 });
    assert.equal(early.status.availableReplicas, 0);
    assert.deepEqual(early.actions, []);
    const later = planStatefulSet({ set, pods: [p0] as never, claims: new Map(), current: R1, update: R1, collisionCount: 0, nowMs: 1_010_000 });
    assert.equal(later.status.availableReplicas, 1);
    assert.deepEqual(later.actions.map(summary), ['create web-1']);
  });
});

describe('revisions', () => {
  const set = sts() as never;
  test('a new template makes a new revision named <set>-<hash>; the same template reuses it', () => {
    const d = decideUpdateRevision(set, [], 0);
    assert.ok('create' in d);
    const r1 = d.create;
    assert.match(r1.metadata.name ?? '', /^web-[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(r1.revision, 1);
    assert.equal(r1.metadata.labels?.['controller.kubernetes.io/hash'], (r1.metadata.name ?? '').slice(4));
    assert.deepEqual(templateOf(r1), template);
    const again = decideUpdateRevision(set, [r1], 0);
    assert.ok('use' in again && again.use === r1);
    assert.notEqual(newRevision(set, 1, 1).metadata.name, r1.metadata.name, 'collisionCount changes the name');
  });
  test('going back to an older template renumbers its revision', () => {
    const r1 = newRevision(set, 1, 0);
    const r2 = newRevision(sts({ template: R2.template }) as never, 2, 0);
    const d = decideUpdateRevision(set, [r1, r2], 0);
    assert.ok('renumber' in d && d.renumber === r1 && d.revision === 3);
  });
  test('history beyond the limit is pruned oldest first, live revisions kept', () => {
    const revs = [1, 2, 3, 4].map((n) => ({ metadata: { name: `r${n}` }, revision: n }) as ControllerRevision);
    assert.deepEqual(revisionsToPrune(revs, new Set(['r1', 'r4']), 1).map((r) => r.metadata.name), ['r2']);
  });
});

// The DaemonSet controller's pure decisions as tables: which nodes should run a daemon pod
// (selector, affinity, taints with the automatic tolerations), what manage() creates and deletes,
// what a rolling update replaces, the status counts, and the ControllerRevision helpers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod, Taint } from 'kubernetes-types/core/v1.js';
import { equalRevisionData, revisionDataHash, sortByRevision, templateHash, type ControllerRevision } from '../../src/controllers/controller-revision.js';
import { Backoff } from '../../src/controllers/daemonset.js';
import {
  daemonPodTemplate,
  daemonSetCounts,
  nodeShouldRunDaemonPod,
  pinToNode,
  planManage,
  planRollingUpdate,
  targetNodeName,
  withDaemonTolerations,
} from '../../src/controllers/daemonset-plan.js';

const node = (name: string, labels: Record<string, string> = {}, taints: Taint[] = []): Node => ({ metadata: { name, labels }, spec: { taints } });
const ds = (spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}, annotations?: Record<string, string>): DaemonSet => ({
  metadata: { name: 'd', namespace: 'ns', uid: 'u', annotations },
  spec: {
    selector: { matchLabels: { app: 'd' } },
    template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'i' }], ...podSpec } },
    updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
    ...spec,
  },
});
const T0 = Date.parse('2026-01-01T00:00:00Z');
const pod = (name: string, nodeName: string, hash: string, o: { ready?: boolean; phase?: string; created?: number; deleting?: boolean; pinned?: boolean } = {}): Pod => ({
  metadata: {
    name,
    labels: { app: 'd', 'controller-revision-hash': hash },
    creationTimestamp: new Date(o.created ?? T0).toISOString(),
    ...(o.deleting ? { deletionTimestamp: new Date(T0).toISOString() } : {}),
  },
  spec: o.pinned
    ? { containers: [], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] } } } }
    : { containers: [], nodeName },
  status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: new Date(T0).toISOString() }] },
});

describe('nodeShouldRunDaemonPod', () => {
  const cases: { name: string; node: Node; ds: DaemonSet; run: boolean; cont: boolean }[] = [
    { name: 'plain node', node: node('a'), ds: ds(), run: true, cont: true },
    { name: 'nodeSelector matches', node: node('a', { disk: 'ssd' }), ds: ds({}, { nodeSelector: { disk: 'ssd' } }), run: true, cont: true },
    { name: 'nodeSelector does not match', node: node('a', { disk: 'hdd' }), ds: ds({}, { nodeSelector: { disk: 'ssd' } }), run: false, cont: false },
    {
      name: 'required affinity NotIn',
      node: node('a', { zone: 'z1' }),
      ds: ds({}, { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['z1'] }] }] } } } }),
      run: false,
      cont: false,
    },
    {
      name: 'required affinity on metadata.name',
      node: node('b'),
      ds: ds({}, { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] }] } } } }),
      run: true,
      cont: true,
    },
    { name: 'spec.nodeName elsewhere', node: node('a'), ds: ds({}, { nodeName: 'b' }), run: false, cont: false },
    { name: 'NoSchedule taint: not placed, may stay', node: node('a', {}, [{ key: 'k', effect: 'NoSchedule' }]), ds: ds(), run: false, cont: true },
    { name: 'NoExecute taint: evicted', node: node('a', {}, [{ key: 'k', effect: 'NoExecute' }]), ds: ds(), run: false, cont: false },
    { name: 'PreferNoSchedule ignored', node: node('a', {}, [{ key: 'k', effect: 'PreferNoSchedule' }]), ds: ds(), run: true, cont: true },
    { name: 'tolerated taint', node: node('a', {}, [{ key: 'k', value: 'v', effect: 'NoSchedule' }]), ds: ds({}, { tolerations: [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }] }), run: true, cont: true },
    { name: 'unschedulable tolerated automatically', node: node('a', {}, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]), ds: ds(), run: true, cont: true },
    { name: 'not-ready NoExecute tolerated automatically', node: node('a', {}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }]), ds: ds(), run: true, cont: true },
    { name: 'network-unavailable without hostNetwork', node: node('a', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), ds: ds(), run: false, cont: true },
    { name: 'network-unavailable with hostNetwork', node: node('a', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), ds: ds({}, { hostNetwork: true }), run: true, cont: true },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(nodeShouldRunDaemonPod(c.node, c.ds), { shouldRun: c.run, shouldContinueRunning: c.cont }));
  }
});

describe('pod templates', () => {
  test('daemon tolerations are added once, and the labels carry hash and generation', () => {
    const t = daemonPodTemplate(ds({}, { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] }, { 'deprecated.daemonset.template.generation': '3' }), 'h1');
    assert.equal(t.spec?.tolerations?.filter((x) => x.key === 'node.kubernetes.io/unschedulable').length, 1);
    assert.equal(t.spec?.tolerations?.length, 6);
    assert.deepEqual(t.metadata?.labels, { app: 'd', 'pod-template-generation': '3', 'controller-revision-hash': 'h1' });
    assert.equal(withDaemonTolerations({ containers: [], hostNetwork: true }).tolerations?.length, 7);
  });
  test('pinToNode replaces the required terms with metadata.name In [node], keeping preferred ones', () => {
    const base = ds({}, { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'x', operator: 'Exists' }] }] }, preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'y', operator: 'Exists' }] } }] } } });
    const t = pinToNode(base.spec!.template, 'n1');
    assert.deepEqual(t.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution, { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] });
    assert.equal(t.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length, 1);
    assert.equal(base.spec?.template.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.key, 'x');
    assert.equal(targetNodeName({ metadata: {}, spec: t.spec }), 'n1');
  });
});

describe('planManage', () => {
  const nodes = [node('a'), node('b'), node('c', { }, [{ key: 'k', effect: 'NoExecute' }])];
  const cases: { name: string; pods: Pod[]; ds?: DaemonSet; nodes?: Node[]; create: string[]; del: string[] }[] = [
    { name: 'empty cluster state: a pod per eligible node', pods: [], create: ['a', 'b'], del: [] },
    { name: 'pinned but unbound pods count', pods: [pod('p1', 'a', 'h', { pinned: true })], create: ['b'], del: [] },
    { name: 'extra pods: keep the oldest', pods: [pod('p1', 'a', 'h', { created: T0 + 5 }), pod('p2', 'a', 'h'), pod('p3', 'b', 'h')], create: [], del: ['p1'] },
    { name: 'evicted by a NoExecute taint', pods: [pod('p1', 'a', 'h'), pod('p2', 'b', 'h'), pod('p3', 'c', 'h')], create: [], del: ['p3'] },
    { name: 'failed pod deleted (recreated next sync)', pods: [pod('p1', 'a', 'h', { phase: 'Failed' }), pod('p2', 'b', 'h')], create: [], del: ['p1'] },
    { name: 'pod on a node that is gone', pods: [pod('p1', 'a', 'h'), pod('p2', 'b', 'h'), pod('p9', 'zz', 'h')], create: [], del: ['p9'] },
    { name: 'terminating pods are left alone', pods: [pod('p1', 'a', 'h', { deleting: true }), pod('p2', 'b', 'h')], create: [], del: [] },
    {
      name: 'surge: one new and one old pod may share a node',
      ds: ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } }),
      pods: [pod('old', 'a', 'h0'), pod('new', 'a', 'h', { created: T0 + 1 }), pod('new2', 'a', 'h', { created: T0 + 2 }), pod('p2', 'b', 'h')],
      create: [],
      del: ['new2'],
    },
  ];
  test('a failed pod on a node in backoff is left for later', () => {
    const p = planManage(ds(), nodes, [pod('p1', 'a', 'h', { phase: 'Failed' }), pod('p2', 'b', 'h')], 'h', (n) => n === 'a');
    assert.deepEqual([p.create, p.delete, p.failed, p.backedOff], [[], [], [], ['a']]);
    const q = planManage(ds(), nodes, [pod('p1', 'a', 'h', { phase: 'Failed' }), pod('p2', 'b', 'h')], 'h');
    assert.deepEqual(q.failed, [['p1', 'a']]);
  });
  for (const c of cases) {
    test(c.name, () => {
      const p = planManage(c.ds ?? ds(), c.nodes ?? nodes, c.pods, 'h');
      assert.deepEqual(p.create, c.create);
      assert.deepEqual(p.delete, c.del);
    });
  }
});

describe('planRollingUpdate', () => {
  const nodes = [node('a'), node('b'), node('c')];
  const now = T0 + 60_000;
  const cases: { name: string; ds: DaemonSet; pods: Pod[]; create: string[]; del: string[] }[] = [
    { name: 'maxUnavailable 1: one old pod at a time', ds: ds(), pods: [pod('a0', 'a', 'h0'), pod('b0', 'b', 'h0'), pod('c0', 'c', 'h0')], create: [], del: ['a0'] },
    { name: 'a node without a pod uses up the budget', ds: ds(), pods: [pod('b0', 'b', 'h0'), pod('c0', 'c', 'h0')], create: [], del: [] },
    { name: 'unready new pod uses up the budget', ds: ds(), pods: [pod('a1', 'a', 'h', { ready: false }), pod('b0', 'b', 'h0'), pod('c0', 'c', 'h0')], create: [], del: [] },
    { name: 'unavailable old pods are always replaced', ds: ds(), pods: [pod('a1', 'a', 'h', { ready: false }), pod('b0', 'b', 'h0', { ready: false }), pod('c0', 'c', 'h0')], create: [], del: ['b0'] },
    { name: 'maxUnavailable 2 (66%)', ds: ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '66%' } } }), pods: [pod('a0', 'a', 'h0'), pod('b0', 'b', 'h0'), pod('c0', 'c', 'h0')], create: [], del: ['a0', 'b0'] },
    { name: 'all updated: nothing', ds: ds(), pods: [pod('a1', 'a', 'h'), pod('b1', 'b', 'h'), pod('c1', 'c', 'h')], create: [], del: [] },
    {
      name: 'surge 1: a new pod beside one old pod',
      ds: ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } }),
      pods: [pod('a0', 'a', 'h0'), pod('b0', 'b', 'h0'), pod('c0', 'c', 'h0')],
      create: ['a'],
      del: [],
    },
    {
      name: 'surge: the old pod goes once the new one is available',
      ds: ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } } }),
      pods: [pod('a0', 'a', 'h0'), pod('a1', 'a', 'h'), pod('b0', 'b', 'h0'), pod('c0', 'c', 'h0')],
      create: ['b'],
      del: ['a0'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => assert.deepEqual(planRollingUpdate(c.ds, nodes, c.pods, 'h', now), { create: c.create, delete: c.del }));
  }
});

describe('daemonSetCounts', () => {
  test('desired, current, misscheduled, ready, available, updated', () => {
    const nodes = [node('a'), node('b'), node('c'), node('t', {}, [{ key: 'k', effect: 'NoSchedule' }])];
    const pods = [pod('a1', 'a', 'h'), pod('b0', 'b', 'h0', { ready: false }), pod('t1', 't', 'h')];
    assert.deepEqual(daemonSetCounts(ds(), nodes, pods, 'h', T0 + 1000), {
      desiredNumberScheduled: 3,
      currentNumberScheduled: 2,
      numberMisscheduled: 1,
      numberReady: 1,
      numberAvailable: 1,
      numberUnavailable: 2,
      updatedNumberScheduled: 1,
    });
  });
  test('minReadySeconds holds back availability', () => {
    const c = daemonSetCounts(ds({ minReadySeconds: 30 }), [node('a')], [pod('a1', 'a', 'h')], 'h', T0 + 10_000);
    assert.equal(c.numberReady, 1);
    assert.equal(c.numberAvailable, 0);
  });
});

describe('failed-pod Backoff', () => {
  test('1 s doubling to the cap, forgotten after twice the cap', () => {
    const b = new Backoff(1000, 4000);
    assert.equal(b.inBackoff('k', 0), false);
    b.next('k', 0);
    assert.deepEqual([b.inBackoff('k', 999), b.inBackoff('k', 1000), b.get('k', 0)], [true, false, 1000]);
    for (const [t, d] of [[1000, 2000], [3000, 4000], [7000, 4000]] as const) {
      b.next('k', t);
      assert.equal(b.get('k', t), d);
    }
    assert.equal(b.get('k', 7000 + 8001), 0);
  });
});

describe('controller-revision helpers', () => {
  test('hashes are stable and change with the collision count', () => {
    const t = ds().spec!.template;
    assert.equal(templateHash(t), templateHash(structuredClone(t)));
    assert.notEqual(templateHash(t), templateHash(t, 1));
    assert.match(templateHash(t), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.equal(revisionDataHash({ a: 1, b: 2 }), revisionDataHash({ b: 2, a: 1 }));
    assert.notEqual(revisionDataHash({ a: 1 }), revisionDataHash({ a: 1 }, 1));
  });
  test('data equality ignores key order and empty fields; sorting by revision', () => {
    assert.ok(equalRevisionData({ spec: { a: 1, b: [] } }, { spec: { a: 1 } }));
    assert.ok(!equalRevisionData({ spec: { a: 1 } }, { spec: { a: 2 } }));
    const r = (name: string, revision: number): ControllerRevision => ({ metadata: { name }, revision });
    assert.deepEqual(sortByRevision([r('c', 3), r('a', 1), r('b', 2)]).map((x) => x.metadata.name), ['a', 'b', 'c']);
  });
});

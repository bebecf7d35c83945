// The DaemonSet controller against the real API server, with plain Node objects (labels, taints;
// no kubelet, no scheduler: daemon pods are pinned to their node by required node affinity, and
// tests mark them Ready by writing their status). One pod per eligible node, a node added gets
// one and a node removed loses it, nodeSelector and taints, ControllerRevisions and the status,
// RollingUpdate replacing pods and OnDelete waiting for deletions. Each test uses its own labels.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resourceFor } from '../../src/api/kinds.js';
import type { KubeObject } from '../../src/api/types.js';
import { startApiServer, type ApiServer } from '../../src/apiserver/server.js';
import type { Client } from '../../src/client/client.js';
import { startController, type RunningController } from '../../src/controllers/controller.js';
import { createDaemonSetController } from '../../src/controllers/daemonset.js';
import { targetNodeName } from '../../src/controllers/daemonset-plan.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { eventually } from '../support/eventually.js';

const PODS = resourceFor('', 'v1', 'pods');
const NODES = resourceFor('', 'v1', 'nodes');
const DS = resourceFor('apps', 'v1', 'daemonsets');
const REVS = resourceFor('apps', 'v1', 'controllerrevisions');
const EVENTS = resourceFor('', 'v1', 'events');
const ns = 'default';

type Status = Record<string, number | undefined>;

const daemonSet = (name: string, podSpec: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name, namespace: ns },
  spec: {
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'img:1' }], ...podSpec } },
    ...spec,
  },
});

describe('DaemonSet controller', () => {
  let srv: ApiServer;
  let c: Client;
  let dir: string;
  let ctl: RunningController;

  const podsOf = async (app: string): Promise<KubeObject[]> =>
    (await c.list(PODS, { namespace: ns, labelSelector: `app=${app}` })).items.filter((p) => !p.metadata.deletionTimestamp);
  const nodesOf = async (app: string): Promise<string[]> => (await podsOf(app)).map((p) => targetNodeName(p as never) ?? '?').sort();
  const statusOf = async (name: string): Promise<Status> => ((await c.get(DS, name, { namespace: ns })).status ?? {}) as Status;
  /** Marks every pod of `app` Running and Ready (what a kubelet would report). */
  const markReady = async (app: string): Promise<void> => {
    for (const p of await podsOf(app)) {
      const ready = ((p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((x) => x.type === 'Ready' && x.status === 'True');
      if (ready) continue;
      const status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }] };
      await c.patch(PODS, p.metadata.name ?? '', 'merge', { status }, { namespace: ns, subresource: 'status' }).catch(() => undefined);
    }
  };
  const addNode = (name: string, labels: Record<string, string> = {}, taints: unknown[] = []) => c.create(NODES, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: { taints } });

  /** A new template (a merge patch: the controller writes the status meanwhile). */
  const setImage = (name: string, image: string) => c.patch(DS, name, 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image }] } } } }, { namespace: ns });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-ds-'));
    srv = await startApiServer({ dataDir: dir, port: 0, bindAddress: '127.0.0.1' });
    c = srv.client('test');
    await addNode('n1', { role: 'worker' });
    await addNode('n2', { role: 'worker' });
    ctl = startController(createDaemonSetController(), srv.client('daemonset-controller'));
  });
  after(async () => {
    await ctl?.stop();
    await srv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('one pod per node, pinned by node affinity, with a ControllerRevision and the status', async () => {
    const ds = await c.create(DS, daemonSet('one'));
    await eventually('a pod on each node', async () => (await nodesOf('one')).join() === 'n1,n2');
    const revs = (await c.list(REVS, { namespace: ns })).items.filter((r) => r.metadata.ownerReferences?.[0]?.uid === ds.metadata.uid);
    assert.equal(revs.length, 1);
    const rev = revs[0]!;
    const hash = rev.metadata.labels?.['controller-revision-hash'];
    assert.ok(hash);
    assert.equal(rev.metadata.name, `one-${hash}`);
    assert.equal((rev as unknown as { revision: number }).revision, 1);
    assert.deepEqual(((rev as unknown as { data: { spec: { template: { $patch: string } } } }).data.spec.template.$patch), 'replace');
    for (const p of await podsOf('one')) {
      assert.equal(p.metadata.generateName, 'one-');
      assert.equal(p.metadata.labels?.['controller-revision-hash'], hash);
      assert.deepEqual(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'one', uid: ds.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      const spec = p.spec as { affinity: unknown; tolerations: { key: string }[] };
      assert.deepEqual(spec.affinity, { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [targetNodeName(p as never)] }] }] } } });
      assert.ok(spec.tolerations.some((t) => t.key === 'node.kubernetes.io/unreachable'));
    }
    await eventually('status counts scheduled pods', async () => {
      const s = await statusOf('one');
      return s.desiredNumberScheduled === 2 && s.currentNumberScheduled === 2 && s.updatedNumberScheduled === 2 && s.numberUnavailable === 2 && s.observedGeneration === 1;
    });
    await markReady('one');
    await eventually('status counts ready pods', async () => {
      const s = await statusOf('one');
      return s.numberReady === 2 && s.numberAvailable === 2 && s.numberUnavailable === 0 && s.numberMisscheduled === 0;
    });
    await c.delete(DS, 'one', { namespace: ns });
  });

  test('a node added gets a pod; a node removed loses it; a deleted pod is replaced', async () => {
    await c.create(DS, daemonSet('grow'));
    await eventually('two pods', async () => (await nodesOf('grow')).join() === 'n1,n2');
    await addNode('n3', { role: 'worker' });
    await eventually('a pod on the new node', async () => (await nodesOf('grow')).join() === 'n1,n2,n3');
    await c.delete(NODES, 'n3');
    await eventually('the removed node loses its pod', async () => (await nodesOf('grow')).join() === 'n1,n2');
    const victim = (await podsOf('grow'))[0]!;
    await c.delete(PODS, victim.metadata.name ?? '', { namespace: ns });
    await eventually('replaced', async () => {
      const pods = await podsOf('grow');
      return pods.length === 2 && !pods.some((p) => p.metadata.name === victim.metadata.name);
    });
    await c.delete(DS, 'grow', { namespace: ns });
  });

  test('a failed pod is deleted with a FailedDaemonPod event and replaced', async () => {
    await c.create(DS, daemonSet('fail'));
    await eventually('two pods', async () => (await podsOf('fail')).length === 2);
    const victim = (await podsOf('fail'))[0]!;
    const node = targetNodeName(victim as never);
    await c.patch(PODS, victim.metadata.name ?? '', 'merge', { status: { phase: 'Failed' } }, { namespace: ns, subresource: 'status' });
    await eventually('replaced on the same node', async () => {
      const pods = await podsOf('fail');
      return pods.length === 2 && !pods.some((p) => p.metadata.name === victim.metadata.name) && pods.some((p) => targetNodeName(p as never) === node);
    });
    await eventually('the event', async () =>
      (await c.list(EVENTS, { namespace: ns })).items.some(
        (e) => e.reason === 'FailedDaemonPod' && e.type === 'Warning' && e.message === `Found failed daemon pod ${ns}/${victim.metadata.name} on node ${node}, will try to kill it`,
      ),
    );
    await c.delete(DS, 'fail', { namespace: ns });
  });

  test('nodeSelector and taints decide the nodes', async () => {
    await addNode('gpu', { role: 'gpu' });
    await addNode('tainted', { role: 'worker' }, [{ key: 'dedicated', value: 'x', effect: 'NoSchedule' }]);
    await addNode('cordoned', { role: 'worker' }, [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]);
    await c.create(DS, daemonSet('workers', { nodeSelector: { role: 'worker' } }));
    await c.create(DS, daemonSet('tolerant', { tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }] }));
    await eventually('workers: not on gpu, not on the tainted node, on the cordoned one', async () => (await nodesOf('workers')).join() === 'cordoned,n1,n2');
    await eventually('tolerant: everywhere', async () => (await nodesOf('tolerant')).join() === 'cordoned,gpu,n1,n2,tainted');
    await eventually('desired counts', async () => (await statusOf('workers')).desiredNumberScheduled === 3);
    // A NoExecute taint evicts the daemon pod.
    const n = await c.get(NODES, 'cordoned');
    await c.update(NODES, { ...n, spec: { taints: [{ key: 'evict', effect: 'NoExecute' }] } });
    await eventually('evicted from the NoExecute node', async () => (await nodesOf('workers')).join() === 'n1,n2');
    for (const name of ['workers', 'tolerant']) await c.delete(DS, name, { namespace: ns });
    for (const name of ['gpu', 'tainted', 'cordoned']) await c.delete(NODES, name);
  });

  test('RollingUpdate replaces every pod with the new template; revisions are numbered', async () => {
    const ds = await c.create(DS, daemonSet('roll'));
    await eventually('two pods', async () => (await podsOf('roll')).length === 2);
    await markReady('roll');
    await eventually('available', async () => (await statusOf('roll')).numberAvailable === 2);
    const before = new Set((await podsOf('roll')).map((p) => p.metadata.name));
    await setImage('roll', 'img:2');
    let rounds = 0;
    await eventually('every pod replaced and ready', async () => {
      rounds++;
      await markReady('roll');
      const pods = await podsOf('roll');
      const s = await statusOf('roll');
      return pods.length === 2 && pods.every((p) => !before.has(p.metadata.name)) && s.updatedNumberScheduled === 2 && s.numberAvailable === 2 && s.observedGeneration === 2;
    });
    assert.ok(rounds > 0);
    const revs = (await c.list(REVS, { namespace: ns })).items.filter((r) => r.metadata.ownerReferences?.[0]?.uid === ds.metadata.uid);
    assert.deepEqual(revs.map((r) => (r as unknown as { revision: number }).revision).sort(), [1, 2]);
    const newest = revs.find((r) => (r as unknown as { revision: number }).revision === 2)!;
    for (const p of await podsOf('roll')) {
      assert.equal(p.metadata.labels?.['controller-revision-hash'], newest.metadata.labels?.['controller-revision-hash']);
      assert.equal((p.spec as { containers: { image: string }[] }).containers[0]!.image, 'img:2');
    }
    // `kubectl rollout undo`: revision 1's data applied back as a strategic merge patch; the
    // matching revision becomes revision 3 and the pods go back to the old template.
    const first = revs.find((r) => (r as unknown as { revision: number }).revision === 1)!;
    await c.patch(DS, 'roll', 'strategic', (first as unknown as { data: unknown }).data, { namespace: ns });
    await eventually('rolled back', async () => {
      await markReady('roll');
      const pods = await podsOf('roll');
      const s = await statusOf('roll');
      return pods.length === 2 && pods.every((p) => (p.spec as { containers: { image: string }[] }).containers[0]!.image === 'img:1') && s.updatedNumberScheduled === 2 && s.numberAvailable === 2;
    });
    const after = (await c.list(REVS, { namespace: ns })).items.filter((r) => r.metadata.ownerReferences?.[0]?.uid === ds.metadata.uid);
    assert.deepEqual(
      after.map((r) => [r.metadata.name, (r as unknown as { revision: number }).revision]).sort((a, b) => Number(a[1]) - Number(b[1])),
      [
        [newest.metadata.name, 2],
        [first.metadata.name, 3],
      ],
    );
    await c.delete(DS, 'roll', { namespace: ns });
  });

  test('the default scheduler binds each daemon pod to the node its affinity names', async () => {
    for (const n of ['n1', 'n2']) {
      await c.patch(NODES, n, 'merge', { status: { capacity: { cpu: '4', memory: '8Gi', pods: '110' }, allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] } }, { subresource: 'status' });
    }
    const scheduler = new Scheduler(srv.client('default-scheduler'));
    await scheduler.start();
    try {
      await c.create(DS, daemonSet('bound'));
      await eventually('both pods bound to their own node', async () => {
        const pods = await podsOf('bound');
        const pinned = (p: KubeObject) => (p.spec as { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: { matchFields: { values: string[] }[] }[] } } } }).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]!.matchFields[0]!.values[0];
        return pods.length === 2 && pods.every((p) => (p.spec as { nodeName?: string }).nodeName === pinned(p));
      });
      await eventually('status still counts both', async () => (await statusOf('bound')).currentNumberScheduled === 2);
      await c.delete(DS, 'bound', { namespace: ns });
    } finally {
      await scheduler.stop();
    }
  });

  test('an orphan ControllerRevision the selector matches is adopted as history', async () => {
    await c.create(REVS, { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'adopt-old', namespace: ns, labels: { app: 'adopt' } }, data: { spec: { template: { $patch: 'replace' } } }, revision: 1 });
    const ds = await c.create(DS, daemonSet('adopt'));
    await eventually('adopted, and the current revision numbered after it', async () => {
      const revs = (await c.list(REVS, { namespace: ns, labelSelector: 'app=adopt' })).items;
      const old = revs.find((r) => r.metadata.name === 'adopt-old');
      const cur = revs.find((r) => r.metadata.name !== 'adopt-old');
      return revs.length === 2 && old?.metadata.ownerReferences?.[0]?.uid === ds.metadata.uid && (cur as unknown as { revision?: number } | undefined)?.revision === 2;
    });
    await c.delete(DS, 'adopt', { namespace: ns });
  });

  test('duplicate revisions of the current template: the newest is kept and pods relabelled to it', async () => {
    const ds = await c.create(DS, daemonSet('dedup'));
    await eventually('two pods', async () => (await podsOf('dedup')).length === 2);
    const [first] = (await c.list(REVS, { namespace: ns, labelSelector: 'app=dedup' })).items;
    assert.ok(first);
    const owner = { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'dedup', uid: ds.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
    await c.create(REVS, {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: { name: 'dedup-dup', namespace: ns, labels: { app: 'dedup', 'controller-revision-hash': 'dupdup' }, ownerReferences: [owner] },
      data: (first as unknown as { data: unknown }).data,
      revision: 7,
    });
    await eventually('only the newest left, pods relabelled, none replaced', async () => {
      const revs = (await c.list(REVS, { namespace: ns, labelSelector: 'app=dedup' })).items;
      const pods = await podsOf('dedup');
      return revs.length === 1 && revs[0]!.metadata.name === 'dedup-dup' && pods.length === 2 && pods.every((p) => p.metadata.labels?.['controller-revision-hash'] === 'dupdup');
    });
    await eventually('status counts them updated', async () => (await statusOf('dedup')).updatedNumberScheduled === 2);
    await c.delete(DS, 'dedup', { namespace: ns });
  });

  test('OnDelete keeps old pods until they are deleted', async () => {
    await c.create(DS, daemonSet('ondel', {}, { updateStrategy: { type: 'OnDelete' } }));
    await eventually('two pods', async () => (await podsOf('ondel')).length === 2);
    const old = await podsOf('ondel');
    await setImage('ondel', 'img:2');
    await eventually('new revision observed', async () => (await statusOf('ondel')).observedGeneration === 2);
    await ctl.idle();
    assert.deepEqual((await podsOf('ondel')).map((p) => p.metadata.name).sort(), old.map((p) => p.metadata.name).sort());
    assert.equal((await statusOf('ondel')).updatedNumberScheduled, 0);
    await c.delete(PODS, old[0]!.metadata.name ?? '', { namespace: ns });
    await eventually('the replacement has the new template', async () => {
      const pods = await podsOf('ondel');
      return pods.length === 2 && pods.some((p) => (p.spec as { containers: { image: string }[] }).containers[0]!.image === 'img:2');
    });
    await eventually('one updated', async () => (await statusOf('ondel')).updatedNumberScheduled === 1);
    await c.delete(DS, 'ondel', { namespace: ns });
  });
});
